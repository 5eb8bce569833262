// open() flags and lseek() origins, with Linux's values (octal, as in
// Linux's <asm-generic/fcntl.h>), so that programs and tests read the same.
#ifndef XV6NET_FCNTL_H
#define XV6NET_FCNTL_H

#define O_RDONLY  00
#define O_WRONLY  01
#define O_RDWR    02
#define O_CREAT   0100
#define O_EXCL    0200
#define O_TRUNC   01000
#define O_APPEND  02000
#define O_NONBLOCK 04000  // reads and writes that would wait fail with EAGAIN
#define O_CREATE  O_CREAT   // xv6's spelling

// fcntl() commands (Linux's numbers)
#define F_GETFL   3   // the file's status flags and access mode
#define F_SETFL   4   // set O_APPEND and O_NONBLOCK (others are ignored)

#define SEEK_SET  0
#define SEEK_CUR  1
#define SEEK_END  2

#endif
