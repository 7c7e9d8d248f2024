// Starting the streamforge binary from end-to-end tests: bounded in time, output captured, always reaped.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace sf::e2e {

inline std::string streamforge_bin() {
  const char* bin = std::getenv("STREAMFORGE_BIN");
  if (!bin) throw std::runtime_error("STREAMFORGE_BIN is not set (run the tests through ctest)");
  return bin;
}

// A child process whose stdout and stderr go to files; killed (SIGKILL) and reaped on destruction.
class Process {
 public:
  Process(std::vector<std::string> args, const std::string& output_path) : output_path_(output_path) {
    args.insert(args.begin(), streamforge_bin());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("posix_spawn failed for " + args[0]);
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void kill(int signal = SIGKILL) { ::kill(pid_, signal); }

  // Waits for the exit; returns the exit code, 128+signal when killed, -1 on timeout (then kills it).
  int wait(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
  }

  std::string output() const {
    std::ifstream in(output_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  pid_t pid_ = -1;
  std::string output_path_;
};

// Runs to completion and returns {exit code, output}.
inline std::pair<int, std::string> run(std::vector<std::string> args, const std::string& output_path,
                                       std::chrono::seconds timeout = std::chrono::seconds(120)) {
  Process p(std::move(args), output_path);
  int code = p.wait(timeout);
  return {code, p.output()};
}

}  // namespace sf::e2e
