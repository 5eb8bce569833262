// sh: the shell.
//
//   sh               read commands from the console (prompt "$ ")
//   sh FILE          read commands from FILE
//   sh -c 'LINE'     run one command line
//
// A line is lexed into tokens, parsed by recursive descent into jobs
// (and-or lists of pipelines), then run. Grammar:
//
//   list     := [ andor { (';' | '&') andor } [ ';' | '&' ] ]
//   andor    := pipeline { ('&&' | '||') pipeline }
//   pipeline := command { '|' command }
//   command  := '(' list ')' { redir }  |  { word | redir }+
//   redir    := ('<' | '>' | '>>') word
//
// Words may be quoted with '...' or "..." (where \" and \\ are escapes), a
// backslash quotes the next character, and '#' at the start of a word
// begins a comment. $? is the status of the last foreground job (128 + N
// when signal N ended it) and $$ the shell's process id, outside single
// quotes. Builtins: cd [DIR], exit [STATUS], true, false, jobs, fg [%N],
// wait.
//
// Job control, on the console: every job runs in a process group of its
// own, and a foreground job's group is the console's foreground group, so
// ^C and ^\ reach that job only, never the shell or a background job. ^C at
// the prompt gives a fresh prompt. A ^C that ends a foreground job ends the
// rest of the line too.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/errno.h"
#include "user/user.h"

#define MAXLINE   512   // longest command line, newline excluded
#define MAXNODES  64    // commands (and jobs) in one line
#define MAXREDIR  8     // redirections on one command
#define MAXDEPTH  16    // nesting of ( ); bounds recursion on our small stack
#define MAXBGJOBS 16    // background jobs the shell keeps track of
#define JOBTEXT   64    // how much of a background job's text jobs shows

// In a word, an expansion to make when the command runs: $? or $$. A
// literal \1 in the input is stored doubled.
#define EXPAND '\1'

static const char usage[] =
  "usage: sh [FILE | -c LINE]\n"
  "  read commands from the console, from FILE, or run LINE\n";

enum {
  TK_WORD, TK_PIPE, TK_SEMI, TK_AMP, TK_IN, TK_OUT, TK_APPEND,
  TK_LPAREN, TK_RPAREN, TK_AND, TK_OR, TK_END,
};

struct token {
  int kind;
  char *word;               // TK_WORD only
  int start, end;           // where in line[] it came from
};

struct redir {
  int kind;                 // TK_IN, TK_OUT or TK_APPEND
  char *file;
};

struct job;

// One stage of a pipeline: a program with arguments, or a ( list ).
struct node {
  char *argv[MAXARG + 1];
  int argc;
  struct job *group;        // the parenthesized list, or 0
  struct redir redir[MAXREDIR];
  int nredir;
  struct node *next;        // next stage of the pipeline
};

// A pipeline in an and-or list, and how the next one depends on it.
struct pipeline {
  struct node *first;
  int op;                   // TK_AND or TK_OR before next, or 0
  struct pipeline *next;
};

// An and-or list and how it ends: ';' (or end of line) or '&'.
struct job {
  struct pipeline *first;
  int background;
  int start, end;           // its text in line[]
  struct job *next;
};

// The parsed form of the current line. Everything is static: the user
// stack is small, and nothing outlives one line.
static char line[MAXLINE + 2];
static char words[2 * sizeof line];   // a word never outgrows its text doubled
static struct token toks[sizeof line + 1];
static int pos;                       // next token for the parser
static struct node nodes[MAXNODES];
static int nnodes;
static struct pipeline pipelines[MAXNODES];
static int npipelines;
static struct job jobs[MAXNODES];
static int njobs;
static int depth;
static char expanded[1024];           // words after $? and $$, for this line
static int nexpanded;

static int laststatus;    // status of the last foreground job
static int interactive;   // reading commands from the console
static int jobcontrol;    // process groups and the console's foreground group
static int shellpgid;     // our own process group, when doing job control
static int scriptfd = -1; // fd of a script file, kept from the commands we run
static int aborted;       // a ^C ended a foreground job: skip the rest of the line
static volatile int gotint;
static volatile int atprompt; // the prompt is out and no line has come yet

// Background jobs, for jobs, fg, wait and the "Done" notices.
static struct bgjob {
  int pid;                  // 0: free slot; the job's process group too
  char text[JOBTEXT];
} bgjobs[MAXBGJOBS];

// ---- lexer ----------------------------------------------------------------

static int
isblank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
specialkind(const char *s)
{
  if (s[0] == '>' && s[1] == '>')
    return TK_APPEND;
  if (s[0] == '&' && s[1] == '&')
    return TK_AND;
  if (s[0] == '|' && s[1] == '|')
    return TK_OR;
  switch (s[0]) {
  case '|': return TK_PIPE;
  case ';': return TK_SEMI;
  case '&': return TK_AMP;
  case '<': return TK_IN;
  case '>': return TK_OUT;
  case '(': return TK_LPAREN;
  case ')': return TK_RPAREN;
  default:  return -1;
  }
}

// Copies one character of a word; "$?" and "$$" become marked expansions.
static void
lexchar(char **sp, char **wp, int expand)
{
  char *s = *sp, *w = *wp;
  if (expand && s[0] == '$' && (s[1] == '?' || s[1] == '$')) {
    *w++ = EXPAND;
    s++;
  } else if (*s == EXPAND) {
    *w++ = EXPAND;   // doubled: a literal \1
  }
  *w++ = *s++;
  *sp = s;
  *wp = w;
}

// Copies one word from *sp to *wp, removing quotes; advances both.
static int
lexword(char **sp, char **wp)
{
  char *s = *sp, *w = *wp;
  while (*s && !isblank(*s) && specialkind(s) < 0) {
    if (*s == '\'' || *s == '"') {
      char quote = *s++;
      while (*s && *s != quote) {
        if (quote == '"' && s[0] == '\\' && (s[1] == '"' || s[1] == '\\'))
          s++;
        lexchar(&s, &w, quote == '"');
      }
      if (*s != quote) {
        fprintf(2, "sh: unterminated quote\n");
        return -1;
      }
      s++;
    } else {
      int escaped = s[0] == '\\' && s[1];
      if (escaped)
        s++;
      lexchar(&s, &w, !escaped);
    }
  }
  *w++ = 0;
  *sp = s;
  *wp = w;
  return 0;
}

// Splits s into toks[], ending with TK_END. Each token uses at least one
// character of s, so toks[] cannot overflow.
static int
lex(char *s)
{
  char *w = words, *begin = s;
  int n = 0;
  for (;;) {
    while (isblank(*s))
      s++;
    if (*s == 0 || *s == '#')
      break;
    struct token *t = &toks[n++];
    t->word = 0;
    t->start = s - begin;
    if ((t->kind = specialkind(s)) >= 0) {
      s += (t->kind == TK_APPEND || t->kind == TK_AND || t->kind == TK_OR) ? 2 : 1;
    } else {
      t->kind = TK_WORD;
      t->word = w;
      if (lexword(&s, &w) < 0)
        return -1;
    }
    t->end = s - begin;
  }
  toks[n].kind = TK_END;
  toks[n].start = toks[n].end = s - begin;
  return 0;
}

// ---- parser ---------------------------------------------------------------

static int
peek(void)
{
  return toks[pos].kind;
}

static const char *
tokentext(struct token *t)
{
  static const char *const text[] = {
    [TK_PIPE] = "|", [TK_SEMI] = ";", [TK_AMP] = "&", [TK_IN] = "<",
    [TK_OUT] = ">", [TK_APPEND] = ">>", [TK_LPAREN] = "(",
    [TK_RPAREN] = ")", [TK_AND] = "&&", [TK_OR] = "||", [TK_END] = "newline",
  };
  return t->kind == TK_WORD ? t->word : text[t->kind];
}

// Reports a problem at the current token; returns 0 for the callers'
// convenience (they return 0 on error).
static void *
parseerror(const char *what)
{
  if (what)
    fprintf(2, "sh: %s\n", what);
  else
    fprintf(2, "sh: syntax error near '%s'\n", tokentext(&toks[pos]));
  return 0;
}

static void *
newslot(void *table, int *n, int size)
{
  if (*n == MAXNODES)
    return parseerror("command too long");
  void *p = (char *)table + size * (*n)++;
  memset(p, 0, size);
  return p;
}

static int
isredir(int kind)
{
  return kind == TK_IN || kind == TK_OUT || kind == TK_APPEND;
}

static struct node *
parseredir(struct node *n)
{
  int kind = toks[pos++].kind;
  if (peek() != TK_WORD)
    return parseerror(0);
  if (n->nredir == MAXREDIR)
    return parseerror("too many redirections");
  n->redir[n->nredir].kind = kind;
  n->redir[n->nredir++].file = toks[pos++].word;
  return n;
}

static int parselist(int stop, struct job **out);

static struct node *
parsegroup(struct node *n)
{
  if (depth == MAXDEPTH)
    return parseerror("too many nested parentheses");
  pos++;   // the '('
  depth++;
  int err = parselist(TK_RPAREN, &n->group);
  depth--;
  if (err < 0)
    return 0;
  if (n->group == 0)   // "( )"
    return parseerror(0);
  pos++;   // the ')'
  while (isredir(peek()))
    if (parseredir(n) == 0)
      return 0;
  return n;
}

static struct node *
parsecommand(void)
{
  struct node *n = newslot(nodes, &nnodes, sizeof *n);
  if (n == 0)
    return 0;
  if (peek() == TK_LPAREN)
    return parsegroup(n);
  while (peek() == TK_WORD || isredir(peek())) {
    if (peek() != TK_WORD) {
      if (parseredir(n) == 0)
        return 0;
    } else if (n->argc == MAXARG) {
      return parseerror("too many arguments");
    } else {
      n->argv[n->argc++] = toks[pos++].word;
    }
  }
  if (n->argc == 0 && n->nredir == 0)
    return parseerror(0);
  return n;
}

static struct pipeline *
parsepipeline(void)
{
  struct pipeline *p = newslot(pipelines, &npipelines, sizeof *p);
  if (p == 0 || (p->first = parsecommand()) == 0)
    return 0;
  for (struct node *last = p->first; peek() == TK_PIPE; last = last->next) {
    pos++;
    if ((last->next = parsecommand()) == 0)
      return 0;
  }
  return p;
}

static struct pipeline *
parseandor(void)
{
  struct pipeline *first = parsepipeline();
  for (struct pipeline *last = first; last && (peek() == TK_AND || peek() == TK_OR);
       last = last->next) {
    last->op = toks[pos++].kind;
    if ((last->next = parsepipeline()) == 0)
      return 0;
  }
  return first;
}

// Parses jobs up to (not including) the token stop; *out = 0 if there are
// none. Returns -1 after reporting an error.
static int
parselist(int stop, struct job **out)
{
  struct job **tail = out;
  *out = 0;
  while (peek() != stop) {
    struct job *j = newslot(jobs, &njobs, sizeof *j);
    if (j == 0)
      return -1;
    j->start = toks[pos].start;
    if ((j->first = parseandor()) == 0)
      return -1;
    j->end = toks[pos - 1].end;
    if (peek() == TK_SEMI || peek() == TK_AMP) {
      j->background = (peek() == TK_AMP);
      pos++;
    } else if (peek() != stop) {
      parseerror(0);
      return -1;
    }
    *tail = j;
    tail = &j->next;
  }
  return 0;
}

// ---- expansion --------------------------------------------------------------

// w with $? and $$ replaced, in expanded[] (reset for each line); w itself
// when it has none; 0 if there is no room.
static char *
expand(char *w)
{
  if (strchr(w, EXPAND) == 0)
    return w;
  char *out = expanded + nexpanded;
  int room = sizeof expanded - nexpanded, n = 0;
  for (; *w && n < room; w++) {
    if (*w != EXPAND)
      out[n++] = *w;
    else if (*++w == EXPAND)
      out[n++] = EXPAND;
    else
      n += snprintf(out + n, room - n, "%d", *w == '?' ? laststatus : getpid());
  }
  if (n >= room) {
    fprintf(2, "sh: line too long after $? and $$ expansion\n");
    return 0;
  }
  out[n++] = 0;
  nexpanded += n;
  return out;
}

static int
expandnode(struct node *n)
{
  for (int i = 0; i < n->argc; i++)
    if ((n->argv[i] = expand(n->argv[i])) == 0)
      return -1;
  for (int i = 0; i < n->nredir; i++)
    if ((n->redir[i].file = expand(n->redir[i].file)) == 0)
      return -1;
  return 0;
}

// ---- running commands -----------------------------------------------------

// Makes descriptor "to" a copy of "from", and closes "from". There is no
// dup2, but dup returns the lowest free descriptor: "to", once it is closed.
static int
movefd(int from, int to)
{
  if (from == to)
    return 0;
  close(to);
  int fd = dup(from);
  close(from);
  if (fd != to) {
    fprintf(2, "sh: cannot set up fd %d\n", to);
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return 0;
}

static int
applyredirs(struct node *n)
{
  for (int i = 0; i < n->nredir; i++) {
    struct redir *r = &n->redir[i];
    int flags = r->kind == TK_IN ? O_RDONLY
              : r->kind == TK_OUT ? (O_WRONLY | O_CREATE | O_TRUNC)
              : (O_WRONLY | O_CREATE | O_APPEND);
    int fd = open(r->file, flags);
    if (fd < 0) {
      fprintf(2, "sh: %s: %s\n", r->file, strerror(errno));
      return -1;
    }
    if (movefd(fd, r->kind == TK_IN ? 0 : 1) < 0)
      return -1;
  }
  return 0;
}

// A freshly forked child: it is no longer the interactive shell. With job
// control it joins process group pgid (0: a new one of its own) and, in
// the foreground, makes that the console's group itself, so that a ^C
// typed at once cannot miss it. The shell's own ^C handling is undone.
static void
childsetup(int pgid, int foreground)
{
  if (jobcontrol) {
    setpgid(0, pgid);
    if (foreground)
      tcsetpgrp(0, pgid ? pgid : getpid());
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
  }
  jobcontrol = interactive = 0;
  memset(bgjobs, 0, sizeof bgjobs);   // the shell's, not this child's
  if (scriptfd >= 0)
    close(scriptfd);
  scriptfd = -1;
}

static const char *const builtins[] = {
  "cd", "exit", "true", "false", "jobs", "fg", "wait", 0,
};

static int
isbuiltin(struct node *n)
{
  if (n->group || n->argc == 0)
    return 0;
  for (int i = 0; builtins[i]; i++)
    if (strcmp(n->argv[0], builtins[i]) == 0)
      return 1;
  return 0;
}

static int runbuiltin(struct node *n);

// Replaces this process with the program argv[0]; a name without '/' is
// looked for in /bin.
static void
runprogram(char **argv)
{
  char path[MAXPATH];
  const char *name = argv[0];

  if (strchr(name, '/'))
    exec(name, argv);
  else if (snprintf(path, sizeof path, "/bin/%s", name) >= (int)sizeof path)
    errno = ENAMETOOLONG;
  else
    exec(path, argv);
  if (errno == ENOENT) {
    fprintf(2, "sh: %s: not found\n", name);
    exit(127);
  }
  fprintf(2, "sh: %s: %s\n", name, strerror(errno));
  exit(126);
}

static void runlist(struct job *j);

// Runs one pipeline stage in a child process; never returns.
static void
runstage(struct node *n)
{
  if (expandnode(n) < 0 || applyredirs(n) < 0)
    exit(1);
  if (n->group) {
    runlist(n->group);
    exit(laststatus);
  }
  if (n->argc == 0)   // only redirections
    exit(0);
  if (isbuiltin(n))
    exit(runbuiltin(n));
  runprogram(n->argv);
}

// Waits for the children pids[0..n-1]; returns the status of the last.
// Only these: background jobs are collected elsewhere.
static int
waitall(int *pids, int n)
{
  int status = 1;
  for (int i = 0; i < n; i++) {
    int st, r;
    while ((r = waitpid(pids[i], &st, 0)) < 0 && errno == EINTR)
      ;
    if (r == pids[i] && i == n - 1)
      status = st;
  }
  return status;
}

// Gives the console to process group pgid (the shell's own when 0).
static void
foreground(int pgid)
{
  if (jobcontrol)
    tcsetpgrp(0, pgid ? pgid : shellpgid);
}

// Starts every stage of the pipeline, each in its own child, connected by
// pipes, in one process group; waits for all of them and returns the last
// one's status.
static int
runpipeline(struct node *n)
{
  int pids[MAXNODES], npids = 0, pgid = 0;
  int in = -1;   // read end of the pipe into this stage, or -1 for stdin

  if (n->next == 0 && isbuiltin(n))   // must change this shell itself
    return expandnode(n) < 0 ? 1 : runbuiltin(n);
  for (; n; n = n->next) {
    int fd[2] = { -1, -1 };
    if (n->next && pipe(fd) < 0) {
      perror("sh: pipe");
      break;
    }
    int pid = fork();
    if (pid == 0) {
      childsetup(pgid, 1);
      if (fd[0] >= 0)
        close(fd[0]);
      if ((in >= 0 && movefd(in, 0) < 0) || (fd[1] >= 0 && movefd(fd[1], 1) < 0))
        exit(1);
      runstage(n);
    }
    if (in >= 0)
      close(in);
    if (fd[1] >= 0)
      close(fd[1]);
    in = fd[0];
    if (pid < 0) {
      perror("sh: fork");
      break;
    }
    if (jobcontrol)
      setpgid(pid, pgid ? pgid : pid);   // as the child does: whichever runs first
    pgid = pgid ? pgid : pid;
    pids[npids++] = pid;
  }
  if (in >= 0)
    close(in);
  if (npids > 0)
    foreground(pgid);
  int status = waitall(pids, npids);
  foreground(0);
  if (status == SIGSTATUS(SIGINT))
    aborted = 1;
  return status;
}

// Runs the and-or list in the foreground: each pipeline after && runs only
// if the one before succeeded, after || only if it failed. $? follows.
static int
runandor(struct pipeline *p)
{
  laststatus = runpipeline(p->first);
  for (; p->next && !aborted; p = p->next)
    if ((p->op == TK_AND) == (laststatus == 0))
      laststatus = runpipeline(p->next->first);
  return laststatus;
}

static int
addbgjob(int pid, struct job *j)
{
  for (int i = 0; i < MAXBGJOBS; i++) {
    if (bgjobs[i].pid == 0) {
      bgjobs[i].pid = pid;
      int len = j->end - j->start;
      if (len >= JOBTEXT)
        len = JOBTEXT - 1;
      memmove(bgjobs[i].text, line + j->start, len);
      bgjobs[i].text[len] = 0;
      return i + 1;
    }
  }
  return 0;   // not tracked; it runs all the same, and init collects it
}

// Runs the job without waiting for it, in a child of its own (in a process
// group of its own with job control; ignoring ^C and ^\ without, as POSIX
// has it). Its stdin is /dev/null so that it does not compete with the
// shell for the console.
static void
runbackground(struct job *j)
{
  int pid = fork();
  if (pid < 0) {
    perror("sh: fork");
    return;
  }
  if (pid == 0) {
    if (!jobcontrol) {
      signal(SIGINT, SIG_IGN);
      signal(SIGQUIT, SIG_IGN);
    }
    childsetup(0, 0);
    int fd = open("/dev/null", O_RDONLY);
    if (fd >= 0)
      movefd(fd, 0);
    exit(runandor(j->first));
  }
  if (jobcontrol)
    setpgid(pid, pid);
  int n = addbgjob(pid, j);
  if (interactive)
    fprintf(2, "[%d] %d\n", n, pid);
  laststatus = 0;
}

static void
describestatus(char *out, int size, int st)
{
  if (st == 0)
    snprintf(out, size, "Done");
  else if (st > 128 && st < 128 + NSIG && signame(st - 128))
    snprintf(out, size, "Killed (SIG%s)", signame(st - 128));
  else
    snprintf(out, size, "Exit %d", st);
}

// Collects background jobs that have ended; with verbose, says so. Called
// between foreground jobs, when every child left is a background job (some
// untracked, if the table was full: they are collected all the same).
static void
reapjobs(int verbose)
{
  char how[32];
  int pid, st;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    for (int i = 0; i < MAXBGJOBS; i++) {
      if (bgjobs[i].pid != pid)
        continue;
      describestatus(how, sizeof how, st);
      if (verbose)
        fprintf(2, "[%d]  %-16s %s\n", i + 1, how, bgjobs[i].text);
      bgjobs[i].pid = 0;
    }
  }
}

static void
runlist(struct job *j)
{
  for (; j && !aborted; j = j->next) {
    if (j->background)
      runbackground(j);
    else
      laststatus = runandor(j->first);
    reapjobs(interactive);
  }
}

// ---- builtins ---------------------------------------------------------------

static int
cdbuiltin(struct node *n)
{
  if (n->argc > 2) {
    fprintf(2, "sh: cd: too many arguments\n");
    return 1;
  }
  const char *dir = n->argc > 1 ? n->argv[1] : "/";
  if (chdir(dir) < 0) {
    fprintf(2, "sh: cd: %s: %s\n", dir, strerror(errno));
    return 1;
  }
  return 0;
}

static void
exitbuiltin(struct node *n)
{
  char *end;
  if (n->argc > 2) {
    fprintf(2, "sh: exit: too many arguments\n");
    exit(2);
  }
  if (n->argc < 2)
    exit(laststatus);
  const char *s = n->argv[1] + (n->argv[1][0] == '-');
  uint v = strtoul(s, &end, 10);
  if (end == s || *end) {
    fprintf(2, "sh: exit: %s: numeric argument required\n", n->argv[1]);
    exit(2);
  }
  exit(n->argv[1][0] == '-' ? -(int)v : (int)v);
}

// The background job that "%N" or "N" (or nothing: the latest) names.
static struct bgjob *
findjob(struct node *n, const char *who)
{
  reapjobs(interactive);
  if (n->argc > 2) {
    fprintf(2, "sh: %s: too many arguments\n", who);
    return 0;
  }
  if (n->argc == 2) {
    const char *s = n->argv[1] + (n->argv[1][0] == '%');
    char *end;
    uint k = strtoul(s, &end, 10);
    if (end == s || *end || k < 1 || k > MAXBGJOBS || bgjobs[k - 1].pid == 0) {
      fprintf(2, "sh: %s: %s: no such job\n", who, n->argv[1]);
      return 0;
    }
    return &bgjobs[k - 1];
  }
  for (int i = MAXBGJOBS - 1; i >= 0; i--)
    if (bgjobs[i].pid)
      return &bgjobs[i];
  fprintf(2, "sh: %s: no current job\n", who);
  return 0;
}

// fg: the job becomes the console's foreground job. Its standard input
// stays /dev/null: what it gets now is ^C.
static int
fgbuiltin(struct node *n)
{
  struct bgjob *b = findjob(n, "fg");
  if (b == 0)
    return 1;
  if (!jobcontrol) {
    fprintf(2, "sh: fg: no job control\n");
    return 1;
  }
  int pid = b->pid;
  printf("%s\n", b->text);
  b->pid = 0;
  foreground(pid);
  int status = waitall(&pid, 1);
  foreground(0);
  if (status == SIGSTATUS(SIGINT))
    aborted = 1;
  return status;
}

static int
jobsbuiltin(void)
{
  reapjobs(1);
  for (int i = 0; i < MAXBGJOBS; i++)
    if (bgjobs[i].pid)
      printf("[%d]  %d  Running  %s\n", i + 1, bgjobs[i].pid, bgjobs[i].text);
  return 0;
}

// wait: for every background job; ^C (the shell's own: it keeps the
// console) stops waiting, as in other shells.
static int
waitbuiltin(void)
{
  int status = 0, r;
  gotint = 0;
  for (int i = 0; i < MAXBGJOBS; i++) {
    if (bgjobs[i].pid == 0)
      continue;
    while ((r = waitpid(bgjobs[i].pid, &status, 0)) < 0 && errno == EINTR && !gotint)
      ;
    if (r < 0 && gotint)
      return SIGSTATUS(SIGINT);
    bgjobs[i].pid = 0;
  }
  return status;
}

// Runs a builtin in this process; returns the status.
static int
runbuiltin(struct node *n)
{
  const char *name = n->argv[0];
  if (strcmp(name, "exit") == 0)
    exitbuiltin(n);
  if (strcmp(name, "true") == 0 || strcmp(name, "false") == 0)
    return name[0] == 'f';
  if (strcmp(name, "jobs") == 0)
    return jobsbuiltin();
  if (strcmp(name, "fg") == 0)
    return fgbuiltin(n);
  if (strcmp(name, "wait") == 0)
    return waitbuiltin();
  return cdbuiltin(n);
}

// Lexes, parses and runs line[].
static void
runline(void)
{
  struct job *list;

  pos = nnodes = npipelines = njobs = depth = nexpanded = aborted = 0;
  if (lex(line) < 0 || parselist(TK_END, &list) < 0) {
    laststatus = 2;
    return;
  }
  runlist(list);
}

// ---- input ----------------------------------------------------------------

#define INTERRUPTED (-2)

// Reads one line into line[], a byte at a time so that nothing beyond it
// is consumed. Returns 1 with a line, 0 at end of input, -1 if the line was
// too long (it is skipped), INTERRUPTED if ^C came first.
static int
readcmd(int fd)
{
  int n = 0;
  char c;
  for (;;) {
    int r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR && n == 0)
      return INTERRUPTED;
    if (r <= 0)
      break;
    if (n < MAXLINE + 1)
      line[n] = c;
    n++;
    if (c == '\n')
      break;
  }
  if (n > MAXLINE + 1) {
    fprintf(2, "sh: line too long (at most %d characters)\n", MAXLINE);
    return -1;
  }
  line[n] = 0;
  return n > 0;
}

static int
isconsole(int fd)
{
  struct stat st;
  return fstat(fd, &st) == 0 && st.type == T_DEV && st.dev == 1;
}

// ^C on the shell itself. At the prompt, the handler prompts again: a ^C
// that comes between the prompt and the read would otherwise be taken
// (at the write's return) before the read starts, and the read would wait.
static void
oninterrupt(int sig)
{
  (void)sig;
  gotint = 1;
  if (atprompt) {
    laststatus = SIGSTATUS(SIGINT);   // as the read's EINTR would say, had it begun
    write(2, "$ ", 2);
  }
}

// On the console: a process group of our own, in the foreground, and ^C
// caught (it makes a read of the console fail with EINTR) rather than fatal.
static void
startjobcontrol(void)
{
  if (setpgid(0, 0) < 0 || tcsetpgrp(0, getpid()) < 0) {
    perror("sh: no job control");
    return;
  }
  shellpgid = getpid();
  jobcontrol = 1;
  signal(SIGINT, oninterrupt);
  signal(SIGQUIT, SIG_IGN);
}

static int
commandline(const char *cmd)
{
  if (strlcpy(line, cmd, sizeof line) >= (int)sizeof line) {
    fprintf(2, "sh: -c: line too long (at most %d characters)\n", MAXLINE);
    return 2;
  }
  runline();
  reapjobs(0);
  return laststatus;
}

int
main(int argc, char *argv[])
{
  int fd = 0, c;
  const char *cmd = 0;

  argsinit("sh", usage);
  while ((c = getopt(argc, argv, "c:")) != -1)
    cmd = optarg;
  if (argc - optind > (cmd ? 0 : 1))
    argextra(argv[optind + (cmd ? 0 : 1)]);
  if (cmd)
    return commandline(cmd);
  if (optind < argc && (fd = scriptfd = open(argv[optind], O_RDONLY)) < 0) {
    fprintf(2, "sh: %s: %s\n", argv[optind], strerror(errno));
    return 127;
  }
  interactive = (fd == 0 && isconsole(0));
  if (interactive)
    startjobcontrol();
  for (;;) {
    if (interactive) {
      reapjobs(1);
      atprompt = 1;
      write(2, "$ ", 2);
    }
    int r;
    while ((r = readcmd(fd)) == INTERRUPTED)
      laststatus = SIGSTATUS(SIGINT);   // the console echoed ^C, the handler prompted
    atprompt = 0;
    if (r == 0)
      break;
    if (r > 0)
      runline();
  }
  return laststatus;
}
