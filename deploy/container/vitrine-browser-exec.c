/*
 * vitrine-browser-exec: starts one program as the browser user, and only as that user.
 *
 * Installed in the image root:vitrine, mode 0750 (only the server's group may run it), with the
 * file capabilities cap_setuid,cap_setgid+ep and nothing else. The target user is compiled in
 * (BROWSER_UID, BROWSER_GID): the helper can make no other identity, root least of all, so a
 * server that runs it gains nothing but the ability to start processes as a user with less access
 * than itself.
 *
 *   vitrine-browser-exec /abs/program [args...]   runs /abs/program args...
 *   vitrine-browser-exec --flag [args...]         runs $VITRINE_BROWSER_PROGRAM --flag args...
 *                                                 (how puppeteer starts it: its first argument is
 *                                                 a Chromium flag; the variable is removed)
 *
 * The program runs in a child process with no supplementary groups, every capability set empty
 * (permitted, effective, inheritable, ambient), no_new_privs set (no later exec can gain a
 * privilege: the bounding set cannot be emptied without CAP_SETPCAP), and SIGKILL as its
 * parent-death signal. This process drops its own capabilities right after the fork and waits:
 * it stays the server's own (signalable) child, and whatever ends it ends the program too.
 * Exit status: the program's, 128+N when it died of signal N, 70 when the switch failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BROWSER_UID
#error "BROWSER_UID must be defined"
#endif
#ifndef BROWSER_GID
#error "BROWSER_GID must be defined"
#endif
#if BROWSER_UID == 0 || BROWSER_GID == 0
#error "the browser user must not be root"
#endif

static void die(const char *what) {
  fprintf(stderr, "vitrine-browser-exec: %s: %s\n", what, strerror(errno));
  _exit(70);
}

static void drop_caps(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  if (syscall(SYS_capset, &h, d) != 0) die("capset");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: vitrine-browser-exec /abs/program [args...] | --flag [args...] (with VITRINE_BROWSER_PROGRAM)\n");
    return 64;
  }
  const char *program;
  char **args;
  if (argv[1][0] == '/') {
    program = argv[1];
    args = argv + 1;
  } else {
    const char *p = getenv("VITRINE_BROWSER_PROGRAM");
    if (!p || p[0] != '/') {
      fprintf(stderr, "vitrine-browser-exec: VITRINE_BROWSER_PROGRAM must name an absolute path\n");
      return 64;
    }
    program = strdup(p);
    args = calloc((size_t)argc + 1, sizeof *args);
    if (!program || !args) die("memory");
    args[0] = (char *)program;
    for (int i = 1; i < argc; i++) args[i] = argv[i];
    unsetenv("VITRINE_BROWSER_PROGRAM");
  }
  pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    if (setgroups(0, NULL) != 0) die("setgroups");
    if (setresgid(BROWSER_GID, BROWSER_GID, BROWSER_GID) != 0) die("setresgid");
    if (setresuid(BROWSER_UID, BROWSER_UID, BROWSER_UID) != 0) die("setresuid");
    uid_t r, e, s;
    gid_t rg, eg, sg;
    if (getresuid(&r, &e, &s) != 0 || r != BROWSER_UID || e != BROWSER_UID || s != BROWSER_UID) die("uid check");
    if (getresgid(&rg, &eg, &sg) != 0 || rg != BROWSER_GID || eg != BROWSER_GID || sg != BROWSER_GID) die("gid check");
    if (getgroups(0, NULL) != 0) die("groups check");
    /* From one non-root uid to another the kernel keeps file capabilities: drop them here. */
    drop_caps();
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) die("ambient");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs");
    /* Set after the uid change (which clears it); survives the exec of a program without privileges. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) die("pdeathsig");
    if (getppid() != parent) _exit(70);
    execv(program, args);
    fprintf(stderr, "vitrine-browser-exec: %s: %s\n", program, strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  drop_caps();
  /* Only the child keeps the descriptors beyond stdio (puppeteer's CDP pipe among them). */
  for (int fd = 3; fd < 1024; fd++) close(fd);
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) die("waitpid");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 70;
}
