// File metadata returned by fstat(), and the directory entry format that
// read() returns on a directory.
#ifndef XV6NET_STAT_H
#define XV6NET_STAT_H
#include "kernel/types.h"

#define T_DIR   1   // directory
#define T_FILE  2   // regular file
#define T_DEV   3   // character device (console, null)
#define T_PIPE  4   // pipe end
#define T_SOCK  5   // socket

struct stat {
  short type;     // T_*
  short nlink;    // links to the inode
  uint  dev;      // device major number for T_DEV, else 0
  uint  ino;      // inode number
  uint  size;     // size in bytes (directories: number of entries * sizeof(struct dirent))
};

#define DIRSIZ 60   // longest name component, including the terminating NUL

// read() on a directory returns a whole number of these.
struct dirent {
  uint ino;
  char name[DIRSIZ];
};

// statfs(): the file system's size and what is left, as Linux's struct
// statfs reports them (in blocks of f_bsize bytes).
#define RAMFS_MAGIC 0x858458f6   // Linux's ramfs

struct statfs {
  uint f_type;      // RAMFS_MAGIC
  uint f_bsize;     // block size: one page
  uint f_blocks;    // blocks the file system may hold (its size limit)
  uint f_bfree;     // blocks not in use
  uint f_bavail;    // the same: no reserve
  uint f_files;     // inodes
  uint f_ffree;     // inodes free
  uint f_namelen;   // longest name
};

#endif
