// The VGA text screen (CGA colour memory at 0xB8000): a mirror of the
// console's output for whoever looks at QEMU's window.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/memlayout.h"
#include "kernel/x86.h"

#define CRTPORT 0x3D4
#define COLS 80
#define ROWS 25
#define ATTR 0x0700   // light grey on black

static ushort *screen = (ushort *)P2V(0xB8000);

static int
getcursor(void)
{
  outb(CRTPORT, 14);
  int pos = inb(CRTPORT + 1) << 8;
  outb(CRTPORT, 15);
  return pos | inb(CRTPORT + 1);
}

static void
setcursor(int pos)
{
  outb(CRTPORT, 14);
  outb(CRTPORT + 1, pos >> 8);
  outb(CRTPORT, 15);
  outb(CRTPORT + 1, pos);
}

void
vgaputc(int c)
{
  int pos = getcursor();

  if (pos < 0 || pos >= COLS * ROWS)
    pos = 0;
  if (c == '\n')
    pos += COLS - pos % COLS;
  else if (c == '\b') {
    if (pos > 0)
      screen[--pos] = ' ' | ATTR;
  } else if (c == '\r')
    pos -= pos % COLS;
  else
    screen[pos++] = (c & 0xFF) | ATTR;

  if (pos >= COLS * ROWS) {   // scroll up one line
    memmove(screen, screen + COLS, sizeof(screen[0]) * COLS * (ROWS - 1));
    pos -= COLS;
    memset(screen + pos, 0, sizeof(screen[0]) * (COLS * ROWS - pos));
    for (int i = pos; i < COLS * ROWS; i++)
      screen[i] = ' ' | ATTR;
  }
  setcursor(pos);
}
