// The root file system: a read-only tree of inodes in kernel memory, filled
// from the initramfs at boot (initrd.c). File contents stay where the loader
// put the archive; nothing is ever freed.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/stat.h"
#include "kernel/file.h"

static struct inode inodes[NINODE];
static int ninodes;

struct inode *
ramfs_root(void)
{
  if (ninodes == 0) {
    struct inode *root = &inodes[ninodes++];
    root->ino = 1;
    root->type = T_DIR;
    root->nlink = 1;
    root->parent = root;
    safestrcpy(root->name, "/", sizeof root->name);
  }
  return &inodes[0];
}

int
ramfs_count(void)
{
  return ninodes;
}

static struct inode *
dirlookup(struct inode *dir, const char *name, int len)
{
  if (len == 1 && name[0] == '.')
    return dir;
  if (len == 2 && name[0] == '.' && name[1] == '.')
    return dir->parent;
  for (struct inode *ip = dir->children; ip; ip = ip->next)
    if (strncmp(ip->name, name, len) == 0 && ip->name[len] == 0)
      return ip;
  return 0;
}

// Add an entry to dir (or return the existing one of that name); 0 if the
// table is full or the name is unusable.
struct inode *
ramfs_create(struct inode *dir, const char *name, short type)
{
  int len = strlen(name);
  struct inode *ip;

  if (len == 0 || len >= DIRSIZ || dir->type != T_DIR)
    return 0;
  if ((ip = dirlookup(dir, name, len)) != 0)
    return ip->type == type ? ip : 0;
  if (ninodes >= NINODE)
    return 0;
  ip = &inodes[ninodes++];
  ip->ino = ninodes;
  ip->type = type;
  ip->nlink = 1;
  ip->parent = dir;
  safestrcpy(ip->name, name, sizeof ip->name);
  if (dir->lastchild)
    dir->lastchild->next = ip;
  else
    dir->children = ip;
  dir->lastchild = ip;
  dir->nchildren++;
  return ip;
}

// Resolve an absolute path, or one relative to cwd.
int
ramfs_lookup(const char *path, struct inode *cwd, struct inode **out)
{
  struct inode *ip = (*path == '/' || cwd == 0) ? ramfs_root() : cwd;

  while (*path) {
    while (*path == '/')
      path++;
    if (*path == 0)
      break;
    const char *name = path;
    while (*path && *path != '/')
      path++;
    int len = path - name;
    if (len >= DIRSIZ)
      return -ENAMETOOLONG;
    if (ip->type != T_DIR)
      return -ENOTDIR;
    if ((ip = dirlookup(ip, name, len)) == 0)
      return -ENOENT;
  }
  *out = ip;
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

static uint
ramfs_size(struct inode *ip)
{
  if (ip->type == T_DIR)
    return (ip->nchildren + 2) * sizeof(struct dirent);
  return ip->type == T_FILE ? ip->size : 0;
}

// Copy up to n bytes from offset off into the kernel buffer dst. A directory
// reads as an array of struct dirent; partial entries are never returned.
int
ramfs_readi(struct inode *ip, char *dst, uint off, uint n)
{
  uint size = ramfs_size(ip);

  if (off >= size)
    return 0;
  n = MIN(n, size - off);
  if (ip->type == T_FILE) {
    memmove(dst, ip->data + off, n);
    return n;
  }
  if (ip->type != T_DIR || off % sizeof(struct dirent) != 0)
    return -EINVAL;
  n -= n % sizeof(struct dirent);
  for (uint done = 0; done < n; done += sizeof(struct dirent))
    direntat(ip, (off + done) / sizeof(struct dirent), (struct dirent *)(dst + done));
  return n;
}

void
ramfs_stat(struct inode *ip, struct stat *st)
{
  st->type = ip->type;
  st->nlink = ip->nlink;
  st->dev = ip->type == T_DEV ? ip->major : 0;
  st->ino = ip->ino;
  st->size = ramfs_size(ip);
}
