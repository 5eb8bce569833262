// File-related system calls: descriptors, open, read/write, pipes, exec.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/file.h"

extern const struct fileops inodeops;

// The lowest free descriptor, now naming f; -EMFILE if none.
int
fdinstall(struct file *f)
{
  struct proc *p = myproc();
  for (int fd = 0; fd < NOFILE; fd++) {
    if (p->ofile[fd] == 0) {
      p->ofile[fd] = f;
      return fd;
    }
  }
  return -EMFILE;
}

int
sys_dup(void)
{
  struct file *f;
  int err, fd;
  if ((err = argfd(0, 0, &f)) < 0)
    return err;
  if ((fd = fdinstall(f)) < 0)
    return fd;
  filedup(f);
  return fd;
}

int
sys_read(void)
{
  struct file *f;
  int n, err;
  uint buf;
  if ((err = argfd(0, 0, &f)) < 0)
    return err;
  if (arguint(1, &buf) < 0 || argint(2, &n) < 0)
    return -EFAULT;
  return fileread(f, buf, n);
}

int
sys_write(void)
{
  struct file *f;
  int n, err;
  uint buf;
  if ((err = argfd(0, 0, &f)) < 0)
    return err;
  if (arguint(1, &buf) < 0 || argint(2, &n) < 0)
    return -EFAULT;
  return filewrite(f, buf, n);
}

int
sys_close(void)
{
  struct file *f;
  int fd, err;
  if ((err = argfd(0, &fd, &f)) < 0)
    return err;
  myproc()->ofile[fd] = 0;
  fileclose(f);
  return 0;
}

int
sys_fstat(void)
{
  struct file *f;
  struct stat st;
  uint uva;
  int err;
  if ((err = argfd(0, 0, &f)) < 0)
    return err;
  if (arguint(1, &uva) < 0)
    return -EFAULT;
  if ((err = filestat(f, &st)) < 0)
    return err;
  return copyout(myproc()->pgdir, uva, &st, sizeof st);
}

// fcntl(fd, cmd, arg): F_GETFL, and F_SETFL for O_APPEND and O_NONBLOCK
// (as Linux, the access mode and any other bits in arg are ignored).
int
sys_fcntl(void)
{
  struct file *f;
  int cmd, arg, err;

  if ((err = argfd(0, 0, &f)) < 0)
    return err;
  if (argint(1, &cmd) < 0 || argint(2, &arg) < 0)
    return -EFAULT;
  if (cmd == F_GETFL) {
    int mode = f->readable && f->writable ? O_RDWR : f->writable ? O_WRONLY : O_RDONLY;
    return mode | (f->append ? O_APPEND : 0) | (f->nonblock ? O_NONBLOCK : 0);
  }
  if (cmd != F_SETFL)
    return -EINVAL;
  f->append = (arg & O_APPEND) != 0;
  int on = (arg & O_NONBLOCK) != 0;
  if (on != f->nonblock && f->ops->setnonblock)
    f->ops->setnonblock(f, on);
  f->nonblock = on;
  return 0;
}

int
sys_open(void)
{
  char path[MAXPATH];
  struct inode *ip;
  struct file *f;
  int flags, fd, err;

  if ((err = argstr(0, path, sizeof path)) < 0 || (err = argint(1, &flags)) < 0)
    return err;
  if ((err = ramfs_open(path, myproc()->cwd, flags, &ip)) < 0)
    return err;
  if ((f = filealloc()) == 0) {
    ramfs_put(ip);
    return -ENFILE;
  }
  f->ops = &inodeops;
  f->ip = ip;
  f->off = 0;
  f->readable = (flags & O_WRONLY) == 0;
  f->writable = (flags & (O_WRONLY | O_RDWR)) != 0;
  f->append = (flags & O_APPEND) != 0;
  f->nonblock = (flags & O_NONBLOCK) != 0;
  if ((fd = fdinstall(f)) < 0)
    fileclose(f);   // drops ip too
  return fd;
}

int
sys_chdir(void)
{
  char path[MAXPATH];
  struct inode *ip;
  int err;

  if ((err = argstr(0, path, sizeof path)) < 0)
    return err;
  if ((err = ramfs_namei(path, myproc()->cwd, &ip)) < 0)
    return err;
  if (ip->type != T_DIR) {
    ramfs_put(ip);
    return -ENOTDIR;
  }
  ramfs_put(myproc()->cwd);
  myproc()->cwd = ip;
  return 0;
}

// unlink(path)
int
sys_unlink(void)
{
  char path[MAXPATH];
  int err;

  if ((err = argstr(0, path, sizeof path)) < 0)
    return err;
  return ramfs_remove(path, myproc()->cwd, 0);
}

// rmdir(path)
int
sys_rmdir(void)
{
  char path[MAXPATH];
  int err;

  if ((err = argstr(0, path, sizeof path)) < 0)
    return err;
  return ramfs_remove(path, myproc()->cwd, 1);
}

// mkdir(path, mode): there are no permissions, so mode is ignored.
int
sys_mkdir(void)
{
  char path[MAXPATH];
  int err;

  if ((err = argstr(0, path, sizeof path)) < 0)
    return err;
  return ramfs_mkdir(path, myproc()->cwd);
}

// rename(from, to)
int
sys_rename(void)
{
  char from[MAXPATH], to[MAXPATH];
  int err;

  if ((err = argstr(0, from, sizeof from)) < 0 || (err = argstr(1, to, sizeof to)) < 0)
    return err;
  return ramfs_rename(from, to, myproc()->cwd);
}

// A length argument: negative is EINVAL, as on Linux.
static int
arglength(int n, uint *len)
{
  int v;
  if (argint(n, &v) < 0)
    return -EFAULT;
  if (v < 0)
    return -EINVAL;
  *len = v;
  return 0;
}

// ftruncate(fd, length)
int
sys_ftruncate(void)
{
  struct file *f;
  uint len;
  int err;

  if ((err = argfd(0, 0, &f)) < 0 || (err = arglength(1, &len)) < 0)
    return err;
  if (f->ops != &inodeops || !f->writable)
    return -EINVAL;
  return ramfs_truncate(f->ip, len);
}

// truncate(path, length)
int
sys_truncate(void)
{
  char path[MAXPATH];
  struct inode *ip;
  uint len;
  int err;

  if ((err = argstr(0, path, sizeof path)) < 0 || (err = arglength(1, &len)) < 0)
    return err;
  if ((err = ramfs_namei(path, myproc()->cwd, &ip)) < 0)
    return err;
  err = ramfs_truncate(ip, len);
  ramfs_put(ip);
  return err;
}

// lseek(fd, offset, whence): the new offset. Directories only at whole
// entries; pipes, sockets and devices cannot seek.
int
sys_lseek(void)
{
  struct file *f;
  int off, whence, err;

  if ((err = argfd(0, 0, &f)) < 0)
    return err;
  if (argint(1, &off) < 0 || argint(2, &whence) < 0)
    return -EFAULT;
  if (f->ops != &inodeops || f->ip->type == T_DEV)
    return -ESPIPE;
  int base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int)f->off :
             whence == SEEK_END ? (int)ramfs_size(f->ip) : -1;
  if (base < 0)
    return -EINVAL;
  int pos = base + off;
  if ((off > 0 && pos < base) || pos < 0)
    return -EINVAL;
  if (f->ip->type == T_DIR && pos % sizeof(struct dirent) != 0)
    return -EINVAL;
  f->off = pos;
  return pos;
}

// statfs(path, struct statfs *): there is one file system, but the path
// must exist, as on Linux.
int
sys_statfs(void)
{
  char path[MAXPATH];
  struct inode *ip;
  struct statfs sf;
  uint uva;
  int err;

  if ((err = argstr(0, path, sizeof path)) < 0)
    return err;
  if (arguint(1, &uva) < 0)
    return -EFAULT;
  if ((err = ramfs_namei(path, myproc()->cwd, &ip)) < 0)
    return err;
  ramfs_put(ip);
  ramfs_statfs(&sf);
  return copyout(myproc()->pgdir, uva, &sf, sizeof sf);
}

int
sys_pipe(void)
{
  struct proc *p = myproc();
  struct file *rf, *wf;
  uint uva;
  int fds[2], err;

  if (arguint(0, &uva) < 0 || !uvmaccessible(p->pgdir, uva, sizeof fds, 1))
    return -EFAULT;
  if ((err = pipealloc(&rf, &wf)) < 0)
    return err;
  if ((fds[0] = fdinstall(rf)) < 0 || (fds[1] = fdinstall(wf)) < 0) {
    if (fds[0] >= 0)
      p->ofile[fds[0]] = 0;
    fileclose(rf);
    fileclose(wf);
    return -EMFILE;
  }
  if (copyout(p->pgdir, uva, fds, sizeof fds) < 0) {
    p->ofile[fds[0]] = p->ofile[fds[1]] = 0;
    fileclose(rf);
    fileclose(wf);
    return -EFAULT;
  }
  return 0;
}

// Copy the user's argv (pointers, then strings) into one kernel page.
static int
fetchargv(uint uargv, char **argv, char *page)
{
  pde_t *pgdir = myproc()->pgdir;
  uint used = 0;

  for (int i = 0;; i++) {
    uint uarg;
    if (i > MAXARG)
      return -E2BIG;
    if (copyin(pgdir, &uarg, uargv + 4 * i, 4) < 0)
      return -EFAULT;
    if (uarg == 0) {
      argv[i] = 0;
      return 0;
    }
    if (i == MAXARG)
      return -E2BIG;
    int len = copyinstr(pgdir, page + used, uarg, PGSIZE - used);
    if (len < 0)
      return len == -ENAMETOOLONG ? -E2BIG : len;
    argv[i] = page + used;
    used += len + 1;
  }
}

int
sys_exec(void)
{
  char path[MAXPATH], *argv[MAXARG + 1];
  uint uargv;
  int err;

  if ((err = argstr(0, path, sizeof path)) < 0)
    return err;
  if (arguint(1, &uargv) < 0)
    return -EFAULT;
  char *page = kalloc();
  if (page == 0)
    return -ENOMEM;
  if ((err = fetchargv(uargv, argv, page)) == 0)
    err = exec(path, argv);
  kfree(page);
  return err;
}
