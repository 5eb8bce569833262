#ifndef XV6NET_SYSCTL_H
#define XV6NET_SYSCTL_H

// Settings by Linux's sysctl names (kernel/net/sysctl.c). A subsystem
// registers the integers it reads at boot; the table does not change after.

#define SYSCTL_NAMEMAX 64   // longest name, with its NUL

struct sysctl {
  const char *name;        // Linux's: "net.ipv4.ip_forward"
  const char *bootkey;     // this kernel's older command-line key, or 0
  int *val;
  int min, max;            // a value outside is refused (-EINVAL)
  void (*changed)(void);   // called after the value changed (may be 0)
};

void sysctl_register(const struct sysctl *s);
int  sysctl_get(const char *name, int *val);   // 0, or -ENOENT
int  sysctl_set(const char *name, int val);    // 0, -ENOENT or -EINVAL
// The index-th name (from 0) into buf (max bytes); 0, or -ENOENT past the last.
int  sysctl_name(int index, char *buf, int max);

#endif
