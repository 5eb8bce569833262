// sh: the shell.
//
//   sh               read commands from the console (prompt "$ ")
//   sh FILE          read commands from FILE
//   sh -c 'LINE'     run one command line
//
// A line is lexed into tokens, parsed by recursive descent into jobs and
// pipelines, then run. Grammar:
//
//   list     := [ pipeline { (';' | '&') pipeline } [ ';' | '&' ] ]
//   pipeline := command { '|' command }
//   command  := '(' list ')' { redir }  |  { word | redir }+
//   redir    := ('<' | '>' | '>>') word
//
// Words may be quoted with '...' or "..." (where \" and \\ are escapes), a
// backslash quotes the next character, and '#' at the start of a word
// begins a comment. Builtins: cd [DIR], exit [STATUS].
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

enum {
  TK_WORD, TK_PIPE, TK_SEMI, TK_AMP, TK_IN, TK_OUT, TK_APPEND,
  TK_LPAREN, TK_RPAREN, TK_END,
};

struct token {
  int kind;
  char *word;               // TK_WORD only
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

// A pipeline and how it ends: ';' (or end of line) or '&'.
struct job {
  struct node *pipeline;
  int background;
  struct job *next;
};

// The parsed form of the current line. Everything is static: the user
// stack is small, and nothing outlives one line.
static char line[MAXLINE + 2];
static char words[2 * sizeof line];   // a word and its NUL never outgrow its text
static struct token toks[sizeof line + 1];
static int pos;                       // next token for the parser
static struct node nodes[MAXNODES];
static int nnodes;
static struct job jobs[MAXNODES];
static int njobs;
static int depth;

static int laststatus;    // status of the last foreground pipeline
static int interactive;   // reading commands from the console
static int scriptfd = -1; // fd of a script file, kept from the commands we run

// ---- lexer ----------------------------------------------------------------

static int
isblank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
specialkind(char c)
{
  switch (c) {
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

// Copies one word from *sp to *wp, removing quotes; advances both.
static int
lexword(char **sp, char **wp)
{
  char *s = *sp, *w = *wp;
  while (*s && !isblank(*s) && specialkind(*s) < 0) {
    if (*s == '\'' || *s == '"') {
      char quote = *s++;
      while (*s && *s != quote) {
        if (quote == '"' && s[0] == '\\' && (s[1] == '"' || s[1] == '\\'))
          s++;
        *w++ = *s++;
      }
      if (*s != quote) {
        fprintf(2, "sh: unterminated quote\n");
        return -1;
      }
      s++;
    } else {
      if (s[0] == '\\' && s[1])
        s++;
      *w++ = *s++;
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
  char *w = words;
  int n = 0;
  for (;;) {
    while (isblank(*s))
      s++;
    if (*s == 0 || *s == '#')
      break;
    struct token *t = &toks[n++];
    t->word = 0;
    if (s[0] == '>' && s[1] == '>') {
      t->kind = TK_APPEND;
      s += 2;
    } else if ((t->kind = specialkind(*s)) >= 0) {
      s++;
    } else {
      t->kind = TK_WORD;
      t->word = w;
      if (lexword(&s, &w) < 0)
        return -1;
    }
  }
  toks[n].kind = TK_END;
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
    [TK_RPAREN] = ")", [TK_END] = "newline",
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

static struct node *
newnode(void)
{
  if (nnodes == MAXNODES)
    return parseerror("command too long");
  struct node *n = &nodes[nnodes++];
  memset(n, 0, sizeof *n);
  return n;
}

static struct job *
newjob(void)
{
  if (njobs == MAXNODES)
    return parseerror("command too long");
  struct job *j = &jobs[njobs++];
  memset(j, 0, sizeof *j);
  return j;
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
  struct node *n = newnode();
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

static struct node *
parsepipeline(void)
{
  struct node *first = parsecommand();
  for (struct node *last = first; last && peek() == TK_PIPE; last = last->next) {
    pos++;
    if ((last->next = parsecommand()) == 0)
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
    struct job *j = newjob();
    if (j == 0 || (j->pipeline = parsepipeline()) == 0)
      return -1;
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

static int
isbuiltin(struct node *n)
{
  return n->group == 0 && n->argc > 0 &&
         (strcmp(n->argv[0], "cd") == 0 || strcmp(n->argv[0], "exit") == 0);
}

// Runs cd or exit in this process; returns the status.
static int
runbuiltin(struct node *n)
{
  if (strcmp(n->argv[0], "exit") == 0)
    exit(n->argc > 1 ? atoi(n->argv[1]) : laststatus);
  const char *dir = n->argc > 1 ? n->argv[1] : "/";
  if (chdir(dir) < 0) {
    fprintf(2, "sh: cd: %s: %s\n", dir, strerror(errno));
    return 1;
  }
  return 0;
}

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
  if (scriptfd >= 0)
    close(scriptfd);
  if (applyredirs(n) < 0)
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
static int
waitall(int *pids, int n)
{
  int status = 1, left = n;
  while (left > 0) {
    int st;
    int pid = wait(&st);
    if (pid < 0)
      break;
    for (int i = 0; i < n; i++) {
      if (pids[i] == pid) {
        left--;
        if (i == n - 1)
          status = st;
      }
    }
  }
  return status;
}

// Starts every stage of the pipeline, each in its own child, connected by
// pipes; waits for all of them and returns the last one's status.
static int
runpipeline(struct node *n)
{
  int pids[MAXNODES], npids = 0;
  int in = -1;   // read end of the pipe into this stage, or -1 for stdin

  for (; n; n = n->next) {
    int fd[2] = { -1, -1 };
    if (n->next && pipe(fd) < 0) {
      perror("sh: pipe");
      break;
    }
    int pid = fork();
    if (pid == 0) {
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
    pids[npids++] = pid;
  }
  if (in >= 0)
    close(in);
  return waitall(pids, npids);
}

// Runs a pipeline without waiting for it. It runs in a grandchild, which
// init adopts and reaps, so the shell never has to collect it. Its stdin is
// /dev/null so that it does not compete with the shell for the console.
static void
runbackground(struct node *n)
{
  int pid = fork();
  if (pid < 0) {
    perror("sh: fork");
    return;
  }
  if (pid == 0) {
    int pid2 = fork();
    if (pid2 == 0) {
      int fd = open("/dev/null", O_RDONLY);
      if (fd >= 0)
        movefd(fd, 0);
      exit(runpipeline(n));
    }
    if (pid2 < 0)
      perror("sh: fork");
    else if (interactive)
      fprintf(2, "[%d]\n", pid2);
    exit(pid2 < 0);
  }
  waitall(&pid, 1);
  laststatus = 0;
}

static void
runlist(struct job *j)
{
  for (; j; j = j->next) {
    struct node *n = j->pipeline;
    if (j->background)
      runbackground(n);
    else if (n->next == 0 && isbuiltin(n))   // must change this shell itself
      laststatus = runbuiltin(n);
    else
      laststatus = runpipeline(n);
  }
}

// Lexes, parses and runs line[].
static void
runline(void)
{
  struct job *list;

  pos = nnodes = njobs = depth = 0;
  if (lex(line) < 0 || parselist(TK_END, &list) < 0) {
    laststatus = 2;
    return;
  }
  runlist(list);
}

// ---- input ----------------------------------------------------------------

// Reads the next command line into line[]. Returns 1 with a line, 0 at end
// of input, -1 if the line was too long (it is skipped).
static int
readcmd(int fd)
{
  int n = readline(fd, line, sizeof line);
  if (n <= 0)
    return 0;
  if (line[n - 1] == '\n' || n < (int)sizeof line - 1)
    return 1;   // a whole line, or the last one, without a newline
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n')
    ;
  fprintf(2, "sh: line too long (at most %d characters)\n", MAXLINE);
  return -1;
}

static int
isconsole(int fd)
{
  struct stat st;
  return fstat(fd, &st) == 0 && st.type == T_DEV && st.dev == 1;
}

int
main(int argc, char *argv[])
{
  int fd = 0;

  if (argc >= 2 && strcmp(argv[1], "-c") == 0) {
    if (argc < 3 || strlcpy(line, argv[2], sizeof line) >= (int)sizeof line) {
      fprintf(2, argc < 3 ? "sh: -c needs a command\n" : "sh: -c: line too long\n");
      return 2;
    }
    runline();
    return laststatus;
  }
  if (argc >= 2 && (fd = scriptfd = open(argv[1], O_RDONLY)) < 0) {
    fprintf(2, "sh: %s: %s\n", argv[1], strerror(errno));
    return 127;
  }
  interactive = (fd == 0 && isconsole(0));
  for (;;) {
    if (interactive)
      write(2, "$ ", 2);
    int r = readcmd(fd);
    if (r == 0)
      break;
    if (r > 0)
      runline();
  }
  return laststatus;
}
