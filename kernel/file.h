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
  // Readiness for poll(): the POLL* bits (kernel/poll.h) that are so now.
  // Whatever changes them must call pollwakeup() (kernel/poll.c). 0: the
  // file is always readable and writable (a regular file).
  int  (*poll)(struct file *f, int events);
  // fcntl(F_SETFL) changed O_NONBLOCK (may be 0: f->nonblock is enough).
  void (*setnonblock)(struct file *f, int on);
};

struct file {
  const struct fileops *ops;
  int ref;
  char readable;
  char writable;
  char append;         // O_APPEND: every write goes to the end
  char nonblock;       // O_NONBLOCK: a read or write that would wait fails with EAGAIN
  struct inode *ip;    // for files, directories and devices (holds a reference)
  uint off;            // read/write offset in ip
  void *priv;          // the pipe or socket behind the file
};

// Character devices, by major number.
struct devsw {
  int (*read)(uint dst, int n, int nonblock);
  int (*write)(uint src, int n);
  int (*poll)(int events);   // as fileops.poll; 0: always ready
};
extern struct devsw devsw[NDEV];

#define DEV_CONSOLE 1
#define DEV_NULL    2

// The in-memory root file system's inodes (ramfs.c). A file's contents are
// either borrowed (rodata: inside the initramfs module or the kernel, never
// freed, not charged) or its own pages, found through direct[], one
// indirect page as in xv6, and one double-indirect page (of indirect pages)
// as in xv6's exercise; a page that was never written is a hole and reads
// as zeros. The first change to a borrowed file copies it into pages.
#define NDIRECT   12
#define NINDIRECT 1024             // page pointers in an indirect page
// The double-indirect page could reach 4 GiB, which a uint size cannot
// say: files stop at 64 MiB (half of a default guest's memory).
#define MAXFILE   (64 * 1024 * 1024)
#define MAXFILEPAGES (MAXFILE / 4096)

struct inode {
  uint ino;                // 0: this table slot is free
  short type;              // T_DIR, T_FILE, T_DEV
  short nlink;             // 1 while in a directory, 0 once removed
  int ref;                 // open files and working directories using it
  ushort major, minor;     // for T_DEV
  uint size;               // file bytes
  const uchar *rodata;     // borrowed contents, or 0
  char *direct[NDIRECT];   // owned pages
  char **indirect;         // page of NINDIRECT more page pointers, or 0
  char ***dindirect;       // page of pointers to indirect pages, or 0
  char name[DIRSIZ];
  struct inode *parent;
  struct inode *children;  // first entry of a directory
  struct inode *lastchild;
  struct inode *next;      // next entry in the parent directory
  uint nchildren;
};

#endif
