// Variable arguments, from the compiler (the kernel has no C library).
#ifndef XV6NET_STDARG_H
#define XV6NET_STDARG_H
typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type)   __builtin_va_arg(ap, type)
#define va_end(ap)         __builtin_va_end(ap)
#endif
