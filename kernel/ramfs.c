// The root file system: a tree of inodes in kernel memory, as Linux's root
// is when the initramfs is unpacked into a ramfs/tmpfs. initrd.c fills it at
// boot; files unpacked from the archive borrow their contents from it until
// first changed, every other byte lives in pages charged against a size
// limit (rootfs.size= on the kernel command line, default a quarter of the
// free memory at boot), and running out of it is ENOSPC.
//
// One sleep lock serialises every operation: the tree, the contents and the
// charge. Callers hold references (ref) on the inodes they keep — open files
// and working directories — so that a removed file lives on, unnamed, until
// its last reference goes, as on Unix.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/file.h"

static struct {
  struct sleeplock lock;
  struct inode inodes[NINODE];
  uint nextino;
  uint pages, maxpages;      // pages charged, and the limit
  uint inuse;                // inodes in use
} fs;

static struct inode *root;

// ---- pages --------------------------------------------------------------------

// A zeroed page charged to the file system, or 0 when it is full.
static char *
pagealloc(void)
{
  char *p;

  if (fs.pages >= fs.maxpages || (p = kalloc()) == 0)
    return 0;
  memset(p, 0, PGSIZE);
  fs.pages++;
  return p;
}

static void
pagefree(char *p)
{
  if (p) {
    kfree(p);
    fs.pages--;
  }
}

// Where the pointer to page n of ip lives; 0 past the largest file, or when
// an indirect page is missing and alloc is 0 (or cannot be had).
static char **
pageslot(struct inode *ip, uint n, int alloc)
{
  if (n < NDIRECT)
    return &ip->direct[n];
  if (n >= MAXFILEPAGES)
    return 0;
  n -= NDIRECT;
  char ***ind = &ip->indirect;
  if (n >= NINDIRECT) {
    n -= NINDIRECT;
    if (ip->dindirect == 0 && (!alloc || (ip->dindirect = (char ***)pagealloc()) == 0))
      return 0;
    ind = &ip->dindirect[n / NINDIRECT];
    n %= NINDIRECT;
  }
  if (*ind == 0 && (!alloc || (*ind = (char **)pagealloc()) == 0))
    return 0;
  return &(*ind)[n];
}

// Page n of ip, allocated if alloc; 0 for a hole (or when full).
static char *
pageat(struct inode *ip, uint n, int alloc)
{
  char **slot = pageslot(ip, n, alloc);
  if (slot == 0)
    return 0;
  if (*slot == 0 && alloc)
    *slot = pagealloc();
  return *slot;
}

// Free the pages of the indirect page *ind (whose first is page number
// first) from page n on, and the indirect page itself if none is left.
static void
freeindirect(char ***ind, uint first, uint n)
{
  if (*ind == 0)
    return;
  for (uint i = n > first ? n - first : 0; i < NINDIRECT; i++) {
    pagefree((*ind)[i]);
    (*ind)[i] = 0;
  }
  if (n <= first) {
    pagefree((char *)*ind);
    *ind = 0;
  }
}

// Free the pages from page n on.
static void
freepagesfrom(struct inode *ip, uint n)
{
  for (uint i = n; i < NDIRECT; i++) {
    pagefree(ip->direct[i]);
    ip->direct[i] = 0;
  }
  freeindirect(&ip->indirect, NDIRECT, n);
  if (ip->dindirect == 0)
    return;
  uint base = NDIRECT + NINDIRECT;
  for (uint i = 0; i < NINDIRECT; i++)
    freeindirect(&ip->dindirect[i], base + i * NINDIRECT, n);
  if (n <= base) {
    pagefree((char *)ip->dindirect);
    ip->dindirect = 0;
  }
}

// Give a borrowed file pages of its own, with the same contents.
static int
materialize(struct inode *ip)
{
  const uchar *src = ip->rodata;

  if (src == 0)
    return 0;
  if (ip->size > MAXFILE)
    return -EFBIG;
  ip->rodata = 0;
  for (uint off = 0; off < ip->size; off += PGSIZE) {
    char *page = pageat(ip, off / PGSIZE, 1);
    if (page == 0) {
      freepagesfrom(ip, 0);
      ip->rodata = src;
      return -ENOSPC;
    }
    memmove(page, src + off, MIN(PGSIZE, ip->size - off));
  }
  return 0;
}

// ---- inodes -------------------------------------------------------------------

static struct inode *
ialloc(short type)
{
  for (struct inode *ip = fs.inodes; ip < fs.inodes + NINODE; ip++) {
    if (ip->ino == 0) {
      memset(ip, 0, sizeof *ip);
      if (++fs.nextino == 0)
        fs.nextino = 2;   // 1 is the root's
      ip->ino = fs.nextino;
      ip->type = type;
      fs.inuse++;
      return ip;
    }
  }
  return 0;
}

// Free ip once it is in no directory and nobody holds it.
static void
ireclaim(struct inode *ip)
{
  if (ip->nlink > 0 || ip->ref > 0 || ip == root)
    return;
  freepagesfrom(ip, 0);
  ip->ino = 0;
  fs.inuse--;
}

void
ramfs_init(void)
{
  char v[32];
  uint bytes = kfreecount() / 4 * PGSIZE;

  initsleeplock(&fs.lock, "ramfs");
  if (cmdlineget("rootfs.size", v, sizeof v) && v[0]) {
    bytes = atoi(v);
    char unit = v[strlen(v) - 1];
    bytes *= unit == 'k' || unit == 'K' ? 1024 : unit == 'm' || unit == 'M' ? 1024 * 1024 : 1;
  }
  fs.maxpages = bytes / PGSIZE;
  fs.nextino = 0;   // the root is inode 1
  root = ialloc(T_DIR);
  root->nlink = 1;
  root->parent = root;
  safestrcpy(root->name, "/", sizeof root->name);
}

struct inode *
ramfs_root(void)
{
  return root;
}

struct inode *
ramfs_dup(struct inode *ip)
{
  if (ip) {
    acquiresleep(&fs.lock);
    ip->ref++;
    releasesleep(&fs.lock);
  }
  return ip;
}

void
ramfs_put(struct inode *ip)
{
  if (ip == 0)
    return;
  acquiresleep(&fs.lock);
  if (--ip->ref < 0)
    panic("ramfs_put: ref < 0");
  ireclaim(ip);
  releasesleep(&fs.lock);
}

int
ramfs_count(void)
{
  return fs.inuse;
}

// ---- directories (fs.lock held) -------------------------------------------------

static struct inode *
dirlookup(struct inode *dir, const char *name)
{
  if (strncmp(name, ".", 2) == 0)
    return dir;
  if (dir->nlink == 0)   // a removed directory is empty for good
    return 0;
  if (strncmp(name, "..", 3) == 0)
    return dir->parent;
  for (struct inode *ip = dir->children; ip; ip = ip->next)
    if (strncmp(ip->name, name, DIRSIZ) == 0)
      return ip;
  return 0;
}

static void
dirlink(struct inode *dir, struct inode *ip, const char *name)
{
  safestrcpy(ip->name, name, sizeof ip->name);
  ip->parent = dir;
  ip->next = 0;
  if (dir->lastchild)
    dir->lastchild->next = ip;
  else
    dir->children = ip;
  dir->lastchild = ip;
  dir->nchildren++;
}

static void
dirunlink(struct inode *dir, struct inode *ip)
{
  struct inode **pp = &dir->children, *prev = 0;

  while (*pp && *pp != ip) {
    prev = *pp;
    pp = &(*pp)->next;
  }
  if (*pp == 0)
    panic("dirunlink: %s not in %s", ip->name, dir->name);
  *pp = ip->next;
  if (dir->lastchild == ip)
    dir->lastchild = prev;
  dir->nchildren--;
  ip->next = 0;
}

// A new entry name in dir; 0 when the inode table is full.
static struct inode *
dircreate(struct inode *dir, const char *name, short type)
{
  struct inode *ip = ialloc(type);
  if (ip == 0)
    return 0;
  ip->nlink = 1;
  dirlink(dir, ip, name);
  return ip;
}

// Copy the next path component into name; returns the rest of the path,
// or 0 when the component is too long.
static const char *
skipelem(const char *path, char *name)
{
  while (*path == '/')
    path++;
  const char *start = path;
  while (*path && *path != '/')
    path++;
  int len = path - start;
  if (len >= DIRSIZ)
    return 0;
  memmove(name, start, len);
  name[len] = 0;
  return path;
}

static int
islast(const char *rest)
{
  while (*rest == '/')
    rest++;
  return *rest == 0;
}

// Resolve path: *dirp is the directory that holds its last component, name
// that component ("" for "/"), *ipp its inode or 0 when there is no such
// entry (the directory may then be given a new one by that name).
static int
walk(const char *path, struct inode *cwd, struct inode **dirp, char *name,
     struct inode **ipp)
{
  struct inode *dir = (*path == '/' || cwd == 0) ? root : cwd;

  if (*path == 0)
    return -ENOENT;
  name[0] = 0;
  *ipp = 0;
  while ((path = skipelem(path, name)) != 0) {
    if (name[0] == 0)   // "/" or trailing slashes: dir itself
      break;
    if (dir->type != T_DIR)
      return -ENOTDIR;
    if (islast(path)) {
      *dirp = dir;
      *ipp = dirlookup(dir, name);
      if (*path == '/' && *ipp && (*ipp)->type != T_DIR)
        return -ENOTDIR;   // "file/"
      return 0;
    }
    if ((dir = dirlookup(dir, name)) == 0)
      return -ENOENT;
  }
  if (path == 0)
    return -ENAMETOOLONG;
  *dirp = dir;      // the path names dir itself ("/", "a/")
  *ipp = dir;
  name[0] = 0;
  return 0;
}

// ---- lookups and changes to the tree -----------------------------------------------

// The inode path names, with a reference for the caller.
int
ramfs_namei(const char *path, struct inode *cwd, struct inode **out)
{
  struct inode *dir, *ip;
  char name[DIRSIZ];

  acquiresleep(&fs.lock);
  int err = walk(path, cwd, &dir, name, &ip);
  if (err == 0 && ip == 0)
    err = -ENOENT;
  if (err == 0) {
    ip->ref++;
    *out = ip;
  }
  releasesleep(&fs.lock);
  return err;
}

// What open(path, flags) finds or makes, with a reference for the caller.
int
ramfs_open(const char *path, struct inode *cwd, int flags, struct inode **out)
{
  struct inode *dir, *ip;
  char name[DIRSIZ];
  int err;

  acquiresleep(&fs.lock);
  if ((err = walk(path, cwd, &dir, name, &ip)) < 0)
    goto done;
  if (ip && (flags & O_CREAT) && (flags & O_EXCL)) {
    err = -EEXIST;
  } else if (ip == 0 && !(flags & O_CREAT)) {
    err = -ENOENT;
  } else if (ip == 0 && dir->nlink == 0) {
    err = -ENOENT;
  } else if (ip == 0 && (ip = dircreate(dir, name, T_FILE)) == 0) {
    err = -ENOSPC;
  } else if (ip->type == T_DIR && (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC))) {
    err = -EISDIR;
  } else if (ip->type == T_FILE && (flags & O_TRUNC) && (flags & (O_WRONLY | O_RDWR))) {
    freepagesfrom(ip, 0);
    ip->rodata = 0;
    ip->size = 0;
  }
  if (err == 0) {
    ip->ref++;
    *out = ip;
  }
done:
  releasesleep(&fs.lock);
  return err;
}

int
ramfs_mkdir(const char *path, struct inode *cwd)
{
  struct inode *dir, *ip;
  char name[DIRSIZ];
  int err;

  acquiresleep(&fs.lock);
  if ((err = walk(path, cwd, &dir, name, &ip)) == 0) {
    if (ip || name[0] == 0 || strncmp(name, "..", 3) == 0)
      err = -EEXIST;
    else if (dir->nlink == 0)
      err = -ENOENT;
    else if (dircreate(dir, name, T_DIR) == 0)
      err = -ENOSPC;
  }
  releasesleep(&fs.lock);
  return err;
}

// Take ip out of dir; it is freed now or when its last reference goes.
static void
removeentry(struct inode *dir, struct inode *ip)
{
  dirunlink(dir, ip);
  ip->nlink = 0;
  ireclaim(ip);
}

// unlink (isdir 0) or rmdir (isdir 1), with Linux's errors.
int
ramfs_remove(const char *path, struct inode *cwd, int isdir)
{
  struct inode *dir, *ip;
  char name[DIRSIZ];
  int err;

  acquiresleep(&fs.lock);
  if ((err = walk(path, cwd, &dir, name, &ip)) < 0)
    goto done;
  if (ip == 0)
    err = -ENOENT;
  else if (!isdir && ip->type == T_DIR)
    err = -EISDIR;
  else if (isdir && ip->type != T_DIR)
    err = -ENOTDIR;
  else if (ip == root)
    err = -EBUSY;
  else if (strncmp(name, ".", 2) == 0 || name[0] == 0)
    err = -EINVAL;
  else if (strncmp(name, "..", 3) == 0 || ip->nchildren > 0)
    err = -ENOTEMPTY;
  else
    removeentry(dir, ip);
done:
  releasesleep(&fs.lock);
  return err;
}

// Is dir ip itself or somewhere below it?
static int
isbelow(struct inode *dir, struct inode *ip)
{
  for (;;) {
    if (dir == ip)
      return 1;
    if (dir == root || dir->nlink == 0)
      return 0;
    dir = dir->parent;
  }
}

// Whether old may replace what is at new (0 when nothing is there).
static int
canreplace(struct inode *old, struct inode *new)
{
  if (new == 0 || new == old)
    return 0;
  if (old->type == T_DIR && new->type != T_DIR)
    return -ENOTDIR;
  if (old->type != T_DIR && new->type == T_DIR)
    return -EISDIR;
  if (new->type == T_DIR && new->nchildren > 0)
    return -ENOTEMPTY;
  return 0;
}

int
ramfs_rename(const char *from, const char *to, struct inode *cwd)
{
  struct inode *odir, *old, *ndir, *new;
  char oname[DIRSIZ], nname[DIRSIZ];
  int err;

  acquiresleep(&fs.lock);
  if ((err = walk(from, cwd, &odir, oname, &old)) < 0 ||
      (err = walk(to, cwd, &ndir, nname, &new)) < 0)
    goto done;
  if (old == 0)
    err = -ENOENT;
  else if (old == root || new == root || oname[0] == 0 || nname[0] == 0)
    err = -EBUSY;
  else if (strncmp(oname, ".", 2) == 0 || strncmp(oname, "..", 3) == 0 ||
           strncmp(nname, ".", 2) == 0 || strncmp(nname, "..", 3) == 0)
    err = -EINVAL;
  else if (ndir->nlink == 0)
    err = -ENOENT;
  else if (old->type == T_DIR && isbelow(ndir, old))
    err = -EINVAL;   // into itself
  else if ((err = canreplace(old, new)) == 0 && new != old) {
    if (new)
      removeentry(ndir, new);
    dirunlink(odir, old);
    dirlink(ndir, old, nname);
  }
done:
  releasesleep(&fs.lock);
  return err;
}

// ---- contents ------------------------------------------------------------------

uint
ramfs_size(struct inode *ip)
{
  if (ip->type == T_DIR)
    return (ip->nchildren + 2) * sizeof(struct dirent);
  return ip->type == T_FILE ? ip->size : 0;
}

// Copy n bytes to dst: a user address when user, else a kernel one.
static int
copyto(int user, uint dst, const void *src, uint n)
{
  if (user)
    return copyout(myproc()->pgdir, dst, src, n);
  memmove((void *)dst, src, n);
  return 0;
}

static void
direntat(struct inode *dir, uint index, struct dirent *de)
{
  struct inode *ip;

  memset(de, 0, sizeof *de);
  if (index == 0) {
    de->ino = dir->ino;
    safestrcpy(de->name, ".", DIRSIZ);
  } else if (index == 1) {
    de->ino = dir->parent->ino;
    safestrcpy(de->name, "..", DIRSIZ);
  } else {
    for (ip = dir->children, index -= 2; ip && index > 0; ip = ip->next)
      index--;
    if (ip) {
      de->ino = ip->ino;
      safestrcpy(de->name, ip->name, DIRSIZ);
    }
  }
}

// A directory reads as an array of struct dirent; never a partial entry.
static int
readdir(struct inode *ip, int user, uint dst, uint off, uint n)
{
  struct dirent de;

  if (off % sizeof de != 0)
    return -EINVAL;
  n -= n % sizeof de;
  for (uint done = 0; done < n; done += sizeof de) {
    direntat(ip, (off + done) / sizeof de, &de);
    if (copyto(user, dst + done, &de, sizeof de) < 0)
      return done > 0 ? (int)done : -EFAULT;
  }
  return n;
}

static int
readfile(struct inode *ip, int user, uint dst, uint off, uint n)
{
  static const char zeros[512];
  uint done = 0;

  while (done < n) {
    uint pos = off + done, chunk = MIN(n - done, PGSIZE - pos % PGSIZE);
    const char *src;
    if (ip->rodata) {
      src = (const char *)ip->rodata + pos;
    } else if ((src = pageat(ip, pos / PGSIZE, 0)) != 0) {
      src += pos % PGSIZE;
    } else {   // a hole
      src = zeros;
      chunk = MIN(chunk, sizeof zeros);
    }
    if (copyto(user, dst + done, src, chunk) < 0)
      return done > 0 ? (int)done : -EFAULT;
    done += chunk;
  }
  return done;
}

// Read up to n bytes at *off into dst (user or kernel address) and advance
// *off; 0 at the end.
int
ramfs_read(struct inode *ip, int user, uint dst, uint *off, uint n)
{
  int r;

  acquiresleep(&fs.lock);
  uint size = ramfs_size(ip);
  if (*off >= size) {
    r = 0;
  } else {
    n = MIN(n, size - *off);
    r = ip->type == T_DIR ? readdir(ip, user, dst, *off, n) :
        ip->type == T_FILE ? readfile(ip, user, dst, *off, n) : -EINVAL;
  }
  if (r > 0)
    *off += r;
  releasesleep(&fs.lock);
  return r;
}

static int
writefile(struct inode *ip, uint src, uint off, uint n)
{
  uint done = 0;

  if (off >= MAXFILE)
    return n > 0 ? -EFBIG : 0;
  n = MIN(n, MAXFILE - off);
  while (done < n) {
    uint pos = off + done, chunk = MIN(n - done, PGSIZE - pos % PGSIZE);
    char *page = pageat(ip, pos / PGSIZE, 1);
    if (page == 0)
      return done > 0 ? (int)done : -ENOSPC;
    if (copyin(myproc()->pgdir, page + pos % PGSIZE, src + done, chunk) < 0)
      return done > 0 ? (int)done : -EFAULT;
    done += chunk;
    if (pos + chunk > ip->size)
      ip->size = pos + chunk;
  }
  return done;
}

// Write n bytes from the user address src at *off (at the end when append,
// as one step: appends do not interleave) and advance *off.
int
ramfs_write(struct inode *ip, uint src, uint *off, uint n, int append)
{
  int r;

  acquiresleep(&fs.lock);
  if (ip->type != T_FILE) {
    r = -EISDIR;
  } else if ((r = materialize(ip)) == 0) {
    if (append)
      *off = ip->size;
    if ((r = writefile(ip, src, *off, n)) > 0)
      *off += r;
  }
  releasesleep(&fs.lock);
  return r;
}

int
ramfs_truncate(struct inode *ip, uint size)
{
  int err = 0;

  acquiresleep(&fs.lock);
  if (ip->type == T_DIR)
    err = -EISDIR;
  else if (ip->type != T_FILE)
    err = -EINVAL;
  else if (size > MAXFILE)
    err = -EFBIG;
  else if (size == 0)
    ip->rodata = 0;   // nothing to keep: no copy needed
  else
    err = materialize(ip);
  if (err == 0 && size < ip->size) {
    freepagesfrom(ip, PGROUNDUP(size) / PGSIZE);
    char *page = size % PGSIZE ? pageat(ip, size / PGSIZE, 0) : 0;
    if (page)   // what was past the end reads as zeros if the file grows
      memset(page + size % PGSIZE, 0, PGSIZE - size % PGSIZE);
  }
  if (err == 0)
    ip->size = size;
  releasesleep(&fs.lock);
  return err;
}

void
ramfs_stat(struct inode *ip, struct stat *st)
{
  acquiresleep(&fs.lock);
  st->type = ip->type;
  st->nlink = ip->nlink;
  st->dev = ip->type == T_DEV ? ip->major : 0;
  st->ino = ip->ino;
  st->size = ramfs_size(ip);
  releasesleep(&fs.lock);
}

void
ramfs_statfs(struct statfs *sf)
{
  acquiresleep(&fs.lock);
  memset(sf, 0, sizeof *sf);
  sf->f_type = RAMFS_MAGIC;
  sf->f_bsize = PGSIZE;
  sf->f_blocks = fs.maxpages;
  sf->f_bfree = sf->f_bavail = fs.maxpages > fs.pages ? fs.maxpages - fs.pages : 0;
  sf->f_files = NINODE;
  sf->f_ffree = NINODE - fs.inuse;
  sf->f_namelen = DIRSIZ - 1;
  releasesleep(&fs.lock);
}

// ---- filling it at boot ---------------------------------------------------------

// The entry name in dir, made if missing (initrd.c, before any process
// runs); 0 if it exists with another type, the name is unusable or the
// table is full.
struct inode *
ramfs_create(struct inode *dir, const char *name, short type)
{
  struct inode *ip;
  int len = strlen(name);

  if (len == 0 || len >= DIRSIZ || dir->type != T_DIR)
    return 0;
  acquiresleep(&fs.lock);
  if ((ip = dirlookup(dir, name)) != 0)
    ip = ip->type == type ? ip : 0;
  else
    ip = dircreate(dir, name, type);
  releasesleep(&fs.lock);
  return ip;
}

// A file whose contents are data (never freed), at boot.
void
ramfs_borrow(struct inode *ip, const uchar *data, uint size)
{
  acquiresleep(&fs.lock);
  freepagesfrom(ip, 0);
  ip->rodata = data;
  ip->size = size;
  releasesleep(&fs.lock);
}
