// open() flags. The root file system is read-only: O_WRONLY, O_RDWR and
// O_CREATE fail with EROFS on files; devices accept writes.
#ifndef XV6NET_FCNTL_H
#define XV6NET_FCNTL_H

#define O_RDONLY  0x000
#define O_WRONLY  0x001
#define O_RDWR    0x002
#define O_CREATE  0x200
#define O_TRUNC   0x400

#endif
