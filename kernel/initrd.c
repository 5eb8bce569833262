// Unpack the initramfs, a cpio "newc" archive (the format Linux uses), into
// the root file system. Each entry: a 110-byte header of "070701" and 13
// eight-digit hex fields, the NUL-terminated name, padding to 4 bytes, the
// data, padding to 4 bytes. "TRAILER!!!" ends the archive.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/stat.h"
#include "kernel/file.h"

#define CPIO_HDRSZ 110
#define S_IFMT   0170000
#define S_IFDIR  0040000
#define S_IFREG  0100000
#define S_IFCHR  0020000

// Header fields, in order after the magic.
enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE,
       F_DEVMAJOR, F_DEVMINOR, F_RDEVMAJOR, F_RDEVMINOR, F_NAMESIZE, F_CHECK, NFIELDS };

static int
hexfield(const char *s, uint *out)
{
  uint v = 0;
  for (int i = 0; i < 8; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' :
            c >= 'a' && c <= 'f' ? c - 'a' + 10 :
            c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0)
      return -1;
    v = v << 4 | d;
  }
  *out = v;
  return 0;
}

// Create every directory on the way to the last component of path and
// return the directory that should hold it; *base is that component.
static struct inode *
makeparents(char *path, char **base)
{
  struct inode *dir = ramfs_root();
  char *p = path;

  for (;;) {
    while (*p == '/')
      p++;
    char *slash = p;
    while (*slash && *slash != '/')
      slash++;
    if (*slash == 0) {
      *base = p;
      return dir;
    }
    *slash = 0;
    if (strncmp(p, ".", 2) != 0 && (dir = ramfs_create(dir, p, T_DIR)) == 0)
      return 0;
    p = slash + 1;
  }
}

static void
addentry(char *name, uint mode, const uchar *data, uint size, uint rmajor, uint rminor)
{
  char *base = "";
  struct inode *dir = makeparents(name, &base);
  struct inode *ip;
  short type;

  switch (mode & S_IFMT) {
  case S_IFDIR: type = T_DIR; break;
  case S_IFREG: type = T_FILE; break;
  case S_IFCHR: type = T_DEV; break;
  default:
    cprintf("initrd: %s: unsupported file type %x, skipped\n", name, mode);
    return;
  }
  if (*base == 0 || strncmp(base, ".", 2) == 0)
    return;   // the root itself
  if (dir == 0 || (ip = ramfs_create(dir, base, type)) == 0) {
    cprintf("initrd: cannot add %s\n", name);
    return;
  }
  if (type == T_FILE)
    ramfs_borrow(ip, data, size);
  ip->major = rmajor;
  ip->minor = rminor;
}

// /proc/cmdline, as on Linux: the kernel command line and a newline, so
// that user space (init, for ip=dhcp) can read it.
static void
makeproc(void)
{
  static char text[CMDLINESZ + 1];
  struct inode *dir, *ip;

  int n = strlen(kcmdline);
  memmove(text, kcmdline, n);
  text[n++] = '\n';
  if ((dir = ramfs_create(ramfs_root(), "proc", T_DIR)) == 0 ||
      (ip = ramfs_create(dir, "cmdline", T_FILE)) == 0) {
    cprintf("initrd: cannot make /proc/cmdline\n");
    return;
  }
  ramfs_borrow(ip, (const uchar *)text, n);
}

static void
unpack(void)
{
  const char *p = P2V(initrd_start), *e = P2V(initrd_end);
  uint f[NFIELDS];
  char name[MAXPATH];

  if (initrd_start == 0) {
    cprintf("initrd: none given (use -initrd)\n");
    return;
  }
  while (p + CPIO_HDRSZ <= e) {
    if (strncmp(p, "070701", 6) != 0 && strncmp(p, "070702", 6) != 0)
      break;
    int bad = 0;
    for (int i = 0; i < NFIELDS; i++)
      bad |= hexfield(p + 6 + 8 * i, &f[i]);
    const char *nm = p + CPIO_HDRSZ;
    const char *data = (const char *)((uint)(nm + f[F_NAMESIZE] + 3) & ~3);
    if (bad || f[F_NAMESIZE] == 0 || f[F_NAMESIZE] > (uint)(e - nm) ||
        data > e || f[F_FILESIZE] > (uint)(e - data))
      break;
    safestrcpy(name, nm, MIN(f[F_NAMESIZE], sizeof name));
    if (strncmp(name, "TRAILER!!!", 11) == 0) {
      cprintf("initrd: %d files, %u bytes\n", ramfs_count(), initrd_end - initrd_start);
      return;
    }
    addentry(name, f[F_MODE], (const uchar *)data, f[F_FILESIZE], f[F_RDEVMAJOR], f[F_RDEVMINOR]);
    p = (const char *)((uint)(data + f[F_FILESIZE] + 3) & ~3);
  }
  cprintf("initrd: malformed archive; %d files read\n", ramfs_count());
}

void
initrdinit(void)
{
  ramfs_init();
  unpack();
  makeproc();
}
