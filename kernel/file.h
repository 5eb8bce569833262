#ifndef XV6NET_FILE_H
#define XV6NET_FILE_H
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"

struct file;
struct stat;

// What a kind of open file (inode, device, pipe, socket) does. Buffers are
// user addresses in the current process; implementations use copyin/copyout.
struct fileops {
  int  (*read)(struct file *f, uint dst, int n);
  int  (*write)(struct file *f, uint src, int n);
  void (*close)(struct file *f);     // last reference dropped
  int  (*stat)(struct file *f, struct stat *st);
};

struct file {
  const struct fileops *ops;
  int ref;
  char readable;
  char writable;
  struct inode *ip;    // for files, directories and devices
  uint off;            // read offset in ip
  void *priv;          // the pipe or socket behind the file
};

// Character devices, by major number.
struct devsw {
  int (*read)(uint dst, int n);
  int (*write)(uint src, int n);
};
extern struct devsw devsw[NDEV];

#define DEV_CONSOLE 1
#define DEV_NULL    2

// The in-memory root file system's inodes (read-only; never freed).
struct inode {
  uint ino;
  short type;              // T_DIR, T_FILE, T_DEV
  short nlink;
  ushort major, minor;     // for T_DEV
  uint size;               // file bytes
  const uchar *data;       // file contents (inside the initramfs module)
  char name[DIRSIZ];
  struct inode *parent;
  struct inode *children;  // first entry of a directory
  struct inode *lastchild;
  struct inode *next;      // next entry in the parent directory
  uint nchildren;
};

#endif
