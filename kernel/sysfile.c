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

static int
openmode(struct inode *ip, int flags)
{
  int writing = flags & (O_WRONLY | O_RDWR | O_CREATE | O_TRUNC);
  if (ip->type == T_DIR && writing)
    return -EISDIR;
  if (ip->type == T_FILE && writing)
    return -EROFS;
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
  if ((err = ramfs_lookup(path, myproc()->cwd, &ip)) < 0)
    return (err == -ENOENT && (flags & O_CREATE)) ? -EROFS : err;
  if ((err = openmode(ip, flags)) < 0)
    return err;
  if ((f = filealloc()) == 0)
    return -ENFILE;
  if ((fd = fdinstall(f)) < 0) {
    fileclose(f);
    return fd;
  }
  f->ops = &inodeops;
  f->ip = ip;
  f->off = 0;
  f->readable = !(flags & O_WRONLY);
  f->writable = (flags & (O_WRONLY | O_RDWR)) != 0;
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
  if ((err = ramfs_lookup(path, myproc()->cwd, &ip)) < 0)
    return err;
  if (ip->type != T_DIR)
    return -ENOTDIR;
  myproc()->cwd = ip;
  return 0;
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
