/* icount: count the user-space instructions a program runs, the way the NodeManager starts it.
 *
 *   icount USER GROUP PROG [ARG...]      (as root)
 *
 * Forks; the child takes USER's identity (initgroups, setresgid GROUP, setresuid USER), stops, is
 * attached by the parent and execs PROG with an empty environment. The parent (root, so CAP_SYS_PTRACE: the kernel
 * keeps PROG's setuid bits working under this tracer, as under `strace -u`) single-steps PROG and
 * every process it forks, and counts the steps. A process that execs something else (the
 * container's script, /bin/true, kill, ls, rm) is let go at that exec: its work is the same for
 * every side, so only what the setuid program itself does is counted. Prints the count on stdout,
 * and exits with PROG's exit status.
 *
 * Why not callgrind or perf: valgrind refuses to run set-id executables, and the kernel stops a
 * task's perf counters at a set-id execve (and this VM has no PMU). Single-stepping costs a few
 * microseconds an instruction, so a run of a million instructions takes a few seconds, and the
 * count is the same from run to run whatever else the machine is doing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXP 64

static pid_t pids[MAXP];
static int execs[MAXP];   /* execs seen: the first child's first one starts the count */
static int newborn[MAXP]; /* a forked process whose initial SIGSTOP is still to come */
static int np;

static int slot(pid_t p, int add) {
  for (int i = 0; i < np; i++)
    if (pids[i] == p) return i;
  if (!add || np == MAXP) return -1;
  pids[np] = p;
  execs[np] = 1;
  newborn[np] = 1;
  return np++;
}

static void forget(pid_t p) {
  int i = slot(p, 0);
  if (i < 0) return;
  pids[i] = pids[np - 1];
  execs[i] = execs[np - 1];
  newborn[i] = newborn[np - 1];
  np--;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: icount USER GROUP PROG [ARG...]\n");
    return 2;
  }
  struct passwd *pw = getpwnam(argv[1]);
  struct group *gr = getgrnam(argv[2]);
  if (!pw || !gr) {
    fprintf(stderr, "icount: unknown user or group\n");
    return 2;
  }
  pid_t child = fork();
  if (child < 0) return 2;
  if (child == 0) {
    char *envp[] = {NULL};
    /* The program's own output is not ours to print: only the count goes to stdout. */
    int devnull = open("/dev/null", O_RDWR);
    if (devnull < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0) _exit(126);
    if (initgroups(argv[1], gr->gr_gid) || setresgid(gr->gr_gid, gr->gr_gid, gr->gr_gid) ||
        setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid))
      _exit(126);
    /* Stop and let root attach: the tracer's credentials are recorded at attach, and only a
     * privileged tracer keeps the set-id bits working (PTRACE_TRACEME would record ours). */
    raise(SIGSTOP);
    execve(argv[3], argv + 3, envp);
    _exit(127);
  }
  int status;
  if (waitpid(child, &status, WUNTRACED) != child || !WIFSTOPPED(status)) return 2;
  if (ptrace(PTRACE_ATTACH, child, 0, 0)) return 2;
  if (waitpid(child, &status, __WALL) != child || !WIFSTOPPED(status)) return 2;
  long opts = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
              PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
  if (ptrace(PTRACE_SETOPTIONS, child, 0, opts)) return 2;
  int first = slot(child, 1);
  execs[first] = 0;
  newborn[first] = 1; /* the SIGSTOP that PTRACE_ATTACH queued is still to come */
  unsigned long long count = 0;
  int exit_status = 1, child_detached = 0;
  ptrace(PTRACE_SINGLESTEP, child, 0, 0);
  while (np > 0) {
    pid_t p = waitpid(-1, &status, __WALL);
    if (p < 0) {
      if (errno == EINTR) continue;
      break;
    }
    int i = slot(p, 1); /* a new child may report before its parent's fork event */
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (p == child) exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      forget(p);
      continue;
    }
    if (!WIFSTOPPED(status) || i < 0) continue;
    int sig = WSTOPSIG(status), event = status >> 16, deliver = 0;
    if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
      if (p == child && execs[i] == 0) {
        execs[i] = 1;
        count = 0; /* from here on: the set-id program itself */
      } else {
        /* The program hands over to other work: let that process go. A stop still queued
         * for it (PTRACE_ATTACH's or a new process's SIGSTOP) would leave it stopped once
         * untraced, holding our caller's pipe open: continue it explicitly. */
        ptrace(PTRACE_DETACH, p, 0, 0);
        kill(p, SIGCONT);
        if (p == child) child_detached = 1;
        forget(p);
        continue;
      }
    } else if (sig == SIGTRAP && event != 0) {
      /* fork/vfork/clone: the new process is traced from its first instruction */
      unsigned long newpid;
      if (ptrace(PTRACE_GETEVENTMSG, p, 0, &newpid) == 0) slot((pid_t)newpid, 1);
    } else if (sig == SIGTRAP) {
      count++;
    } else if (sig == SIGSTOP && newborn[i]) {
      newborn[i] = 0; /* a new process's initial stop: not a signal to pass on */
    } else {
      deliver = sig;
    }
    ptrace(PTRACE_SINGLESTEP, p, 0, deliver);
  }
  /* The first process, let go at its exec of the work, is still our child: its status is the
   * work's. */
  if (child_detached && waitpid(child, &status, 0) == child)
    exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("%llu\n", count);
  return exit_status;
}
