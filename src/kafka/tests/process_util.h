// Child processes of the kafka tests: the streamforge binary as a server that announces its address on the
// first stdout line, and shell commands (kcat).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace sf::kafka::testing {

// A child process whose first stdout line is "listening on HOST:PORT".
struct ListeningProcess {
  pid_t pid = -1;
  std::string address;

  bool start(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe(fds) != 0) return false;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* out = ::fdopen(fds[0], "r");
    char line[256] = {0};
    const bool got = std::fgets(line, sizeof line, out) != nullptr;
    std::fclose(out);
    const std::string text(line);
    const std::string prefix = "listening on ";
    if (!got || text.rfind(prefix, 0) != 0) return false;
    address = text.substr(prefix.size());
    while (!address.empty() && (address.back() == '\n' || address.back() == '\r')) address.pop_back();
    return true;
  }
  int stop() {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  ~ListeningProcess() {
    if (pid > 0) stop();
  }
};

// Runs a shell command; its exit code, -1 when it did not exit normally.
inline int run(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace sf::kafka::testing
