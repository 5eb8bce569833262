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
#define O_CREATE  O_CREAT   // xv6's spelling

#define SEEK_SET  0
#define SEEK_CUR  1
#define SEEK_END  2

#endif
