// Open files: a system-wide table of struct file, shared by file descriptors
// through reference counts. What a file does is in its fileops; this file
// has those of inodes (regular files, directories, devices).

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/stat.h"
#include "kernel/spinlock.h"
#include "kernel/file.h"
#include "kernel/poll.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"

struct devsw devsw[NDEV];

static struct {
  struct spinlock lock;
  struct file file[NFILE];
} ftable;

// Open files, for sysinfo.
int
filecount(void)
{
  int n = 0;
  acquire(&ftable.lock);
  for (struct file *f = ftable.file; f < ftable.file + NFILE; f++)
    n += f->ref > 0;
  release(&ftable.lock);
  return n;
}

void
fileinit(void)
{
  initlock(&ftable.lock, "ftable");
}

// A file with one reference and no type yet; 0 when the table is full.
struct file *
filealloc(void)
{
  acquire(&ftable.lock);
  for (struct file *f = ftable.file; f < ftable.file + NFILE; f++) {
    if (f->ref == 0) {
      memset(f, 0, sizeof *f);
      f->ref = 1;
      release(&ftable.lock);
      return f;
    }
  }
  release(&ftable.lock);
  return 0;
}

struct file *
filedup(struct file *f)
{
  acquire(&ftable.lock);
  if (f->ref < 1)
    panic("filedup: free file");
  f->ref++;
  release(&ftable.lock);
  return f;
}

void
fileclose(struct file *f)
{
  acquire(&ftable.lock);
  if (f->ref < 1)
    panic("fileclose: free file");
  if (--f->ref > 0) {
    release(&ftable.lock);
    return;
  }
  struct file copy = *f;
  f->ref = 0;
  f->ops = 0;
  release(&ftable.lock);
  if (copy.ops && copy.ops->close)
    copy.ops->close(&copy);
}

int
filestat(struct file *f, struct stat *st)
{
  if (f->ops->stat == 0)
    return -EINVAL;
  return f->ops->stat(f, st);
}

int
fileread(struct file *f, uint dst, int n)
{
  if (!f->readable)
    return -EBADF;
  if (n < 0)
    return -EINVAL;
  return f->ops->read(f, dst, n);
}

int
filewrite(struct file *f, uint src, int n)
{
  if (!f->writable)
    return -EBADF;
  if (n < 0)
    return -EINVAL;
  return f->ops->write(f, src, n);
}

// The POLL* bits that are so for f now (of events, plus the errors and
// hangups that are always reported).
int
filepoll(struct file *f, int events)
{
  int ready = f->ops->poll ? f->ops->poll(f, events) : POLLIN | POLLOUT;
  return ready & (events | POLLERR | POLLHUP);
}

// ---- inode files -----------------------------------------------------------

static int
inoderead(struct file *f, uint dst, int n)
{
  struct inode *ip = f->ip;

  if (ip->type == T_DEV) {
    if (ip->major >= NDEV || devsw[ip->major].read == 0)
      return -ENODEV;
    return devsw[ip->major].read(dst, n, f->nonblock);
  }
  return ramfs_read(ip, 1, dst, &f->off, n);
}

static int
inodewrite(struct file *f, uint src, int n)
{
  struct inode *ip = f->ip;

  if (ip->type == T_DEV) {
    if (ip->major >= NDEV || devsw[ip->major].write == 0)
      return -ENODEV;
    return devsw[ip->major].write(src, n);
  }
  return ramfs_write(ip, src, &f->off, n, f->append);
}

// Regular files and directories never make anyone wait; devices say.
static int
inodepoll(struct file *f, int events)
{
  struct inode *ip = f->ip;

  if (ip->type == T_DEV && ip->major < NDEV && devsw[ip->major].poll)
    return devsw[ip->major].poll(events);
  return POLLIN | POLLOUT;
}

static void
inodeclose(struct file *f)
{
  ramfs_put(f->ip);
}

static int
inodestat(struct file *f, struct stat *st)
{
  ramfs_stat(f->ip, st);
  return 0;
}

const struct fileops inodeops = {
  .read = inoderead,
  .write = inodewrite,
  .close = inodeclose,
  .stat = inodestat,
  .poll = inodepoll,
};
