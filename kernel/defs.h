// Prototypes of everything one kernel file calls in another, grouped by file.
#ifndef XV6NET_DEFS_H
#define XV6NET_DEFS_H
#include "kernel/types.h"
#include "kernel/ticks.h"

struct context;
struct cpu;
struct file;
struct inode;
struct pipe;
struct proc;
struct spinlock;
struct sleeplock;
struct stat;
struct trapframe;

// bootinfo.c
extern char kcmdline[];
extern uint memtop;                  // physical end of usable memory
extern uint initrd_start, initrd_end; // physical range of the initramfs module
void     bootinfoparse(uint magic, uint mbinfo_pa);
uint     bootreserved(void);          // physical end of everything the loader left us
int      cmdlineget(const char *key, char *val, int max);

// console.c
void     consoleinit(void);
void     consoleintr(int (*getc)(void));
void     cprintf(const char *fmt, ...);
void     panic(const char *fmt, ...) __attribute__((noreturn));
extern volatile uint panicked;
void     panicstop(void) __attribute__((noreturn));
void     backtrace(uint ebp);
int      snprintf(char *buf, int size, const char *fmt, ...);
void     consolesetpgrp(int pgid);
int      consolegetpgrp(void);

// exec.c
int      exec(char *path, char **argv);

// file.c
struct file *filealloc(void);
void     fileclose(struct file *f);
struct file *filedup(struct file *f);
void     fileinit(void);
int      filecount(void);
int      fileread(struct file *f, uint dst, int n);
int      filestat(struct file *f, struct stat *st);
int      filewrite(struct file *f, uint src, int n);
int      filepoll(struct file *f, int events);

// initrd.c
void     initrdinit(void);

// ioapic.c
void     ioapicenable(int irq, int cpu, int level);
extern uchar ioapicid;
void     ioapicinit(void);

// prof.c
struct trapframe;
void     profinit(void);
void     profintr(struct trapframe *tf);

// kalloc.c
char    *kalloc(void);
char    *kallocpages(int n);
void     kfree(char *p);          // a shared page: one mapping fewer (kshare)
int      kshare(char *p);         // one mapping more, or -1: copy it instead
void     kinit1(void *vstart, void *vend);
void     kinit2(void *vstart, void *vend);
uint     kfreecount(void);
struct kprof_pages;
int      kallocowners(struct kprof_pages *out, int max);

// clock.c
void     clockinit(void);
uint64   clockus(void);
void     rxprof_print(void);   // rxprof.c: KDEFS=-DRXPROF only
void     clockselftest(int cpu);

// lapic.c
extern volatile uint *lapic;
void     lapiceoi(void);
#ifdef LATMARK
void     lapicmark(int);
#define LATMARK_AT(n) lapicmark(n)
#else
#define LATMARK_AT(n) do { } while (0)
#endif
void     lapicinit(void);
int      lapicid(void);
void     lapicstartap(uchar apicid, uint addr);
void     lapicipiothers(int vector);
void     microdelay(int us);
int      lapicelapsed(uint *mark);

// acpi.c
int      acpiinit(void);

// mp.c
extern int ismp;
void     mpinit(void);

// pci.c
void     pciinit(void);

// picirq.c
void     picinit(void);

// pipe.c
int      pipealloc(struct file **rf, struct file **wf);

// poll.c
void     pollwakeup(void);

// proc.c
int      cpuid(void);
void     exit(int status) __attribute__((noreturn));
int      fork(void);
int      growproc(int n);
int      kill(int pid, int sig);
struct cpu *mycpu(void);
struct proc *myproc(void);
void     pinit(void);
void     procdump(void);
void     signalgroup(int pgid, int sig);
void     signalself(int sig);
int      sigtake(struct proc *p);
void     sigdiscard(struct proc *p, int sig);
int      setpgid(int pid, int pgid);
int      getpgid(int pid);
int      pgidexists(int pgid);
void     scheduler(void) __attribute__((noreturn));
void     sched(void);
void     sleep(void *chan, struct spinlock *lk);
void     sleepintr(void *chan, struct spinlock *lk);
void     sleepdeadline(void *chan, struct spinlock *lk, uint deadline);
void     wakeexpired(uint now);
void     userinit(void);
struct proc *kthread_create(const char *name, void (*fn)(void *), void *arg);
int      waitpid(int pid, uint status_uva, int options);
void     wakeup(void *chan);
void     yield(void);
void     selftestcpu(void);
void     selftestboot(void);
int      killed(struct proc *p);
int      getppid(void);
void     proccount(int *inuse, int *kstacks);
void     idleend(struct cpu *c);
void     idletime(uint64 *idleus, uint64 *nowus);

// ramfs.c
struct statfs;
void     ramfs_init(void);
struct inode *ramfs_root(void);
struct inode *ramfs_create(struct inode *dir, const char *name, short type);
void     ramfs_borrow(struct inode *ip, const uchar *data, uint size);
struct inode *ramfs_dup(struct inode *ip);
void     ramfs_put(struct inode *ip);
int      ramfs_namei(const char *path, struct inode *cwd, struct inode **out);
int      ramfs_open(const char *path, struct inode *cwd, int flags, struct inode **out);
int      ramfs_mkdir(const char *path, struct inode *cwd);
int      ramfs_remove(const char *path, struct inode *cwd, int isdir);
int      ramfs_rename(const char *from, const char *to, struct inode *cwd);
int      ramfs_read(struct inode *ip, int user, uint dst, uint *off, uint n);
int      ramfs_write(struct inode *ip, uint usrc, uint *off, uint n, int append);
int      ramfs_truncate(struct inode *ip, uint size);
uint     ramfs_size(struct inode *ip);
void     ramfs_stat(struct inode *ip, struct stat *st);
void     ramfs_statfs(struct statfs *sf);
int      ramfs_count(void);

// random.c
void     random_add(uint sample);
void     random_get(void *buf, uint n);

// swtch.S
void     swtch(struct context **old, struct context *new);
void     stackrun(char *top, void (*fn)(void)) __attribute__((noreturn));

// signal.c
void     sigdeliver(struct trapframe *tf);
void     sigexec(struct proc *p);

// spinlock.c
void     acquire(struct spinlock *lk);
int      holding(struct spinlock *lk);
void     initlock(struct spinlock *lk, char *name);
void     release(struct spinlock *lk);
void     pushcli(void);
void     popcli(void);

// lockdep.c
struct lockheld;
struct lockstat;
struct lockedge;
int      lockclassof(struct spinlock *lk);
int      sleeplockclassof(struct sleeplock *lk);
void     lockdep_check(struct cpu *c, int cl, uint pc);
void     lockdep_push(struct lockheld *tab, int *n, int max, void *lk, int cl, uint pc);
void     lockdep_pop(struct lockheld *tab, int *n, void *lk);
void     lockstat_count(struct cpu *c, int cl, uint spins, uint sleeps);
int      lockstat_get(int i, struct lockstat *out);
int      lockorder_get(int k, struct lockedge *out);
void     lockdep_selftest(void);

// sleeplock.c
void     acquiresleep(struct sleeplock *lk);
void     releasesleep(struct sleeplock *lk);
int      holdingsleep(struct sleeplock *lk);
void     initsleeplock(struct sleeplock *lk, char *name);

// string.c
int      atoi(const char *s);
int      memcmp(const void *a, const void *b, uint n);
void    *memmove(void *dst, const void *src, uint n);
void    *memcpy(void *dst, const void *src, uint n);
void    *memset(void *dst, int c, uint n);
char    *safestrcpy(char *dst, const char *src, int n);
int      strlen(const char *s);
int      strncmp(const char *p, const char *q, uint n);
char    *strncpy(char *dst, const char *src, int n);

// sysfile.c
int      fdinstall(struct file *f);

// syscall.c
int      argint(int n, int *ip);
int      arguint(int n, uint *ip);
int      argblock(uint *args, int n);
int      fdfile(int fd, struct file **pf);
int      argstr(int n, char *buf, int max);
int      argfd(int n, int *pfd, struct file **pf);
void     syscall(void);

// trap.c
void     idtinit(void);
extern struct spinlock tickslock;
void     tvinit(void);

// uart.c
void     uartinit(void);
void     uartintr(void);
void     uartputc(int c);
void     uartstats(uint *ndropped, uint *maxwaitus);

// vga.c
void     vgaputc(int c);

// vm.c
void     seginit(void);
void     kvmalloc(void);
pde_t   *setupkvm(void);
int      allocuvm(pde_t *pgdir, uint oldsz, uint newsz, int perm);
int      deallocuvm(pde_t *pgdir, uint oldsz, uint newsz);
void     freevm(pde_t *pgdir);
void     clearpteu(pde_t *pgdir, char *uva);
void     uvmreadonly(pde_t *pgdir, uint va, uint len);
pde_t   *copyuvm(pde_t *pgdir, uint sz);
void     switchuvm(struct proc *p);
void     switchkvm(void);
void     kvmenter(void);
void     switchto(struct proc *p);
int      copyout(pde_t *pgdir, uint va, const void *src, uint len);
int      copyin(pde_t *pgdir, void *dst, uint va, uint len);
int      copyinstr(pde_t *pgdir, char *dst, uint va, uint max);
int      loaduvm(pde_t *pgdir, uint va, const char *src, uint n);
char    *kstackmap(int slot);
char    *cpustackmap(struct cpu *c);
int      uvmaccessible(pde_t *pgdir, uint va, uint len, int write);

#define NELEM(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
