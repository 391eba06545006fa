// The sanitizer build's own check (tests/CMakeLists.txt, Sanitize builds only): a report of a
// child process reaches the per-process report files that scripts/sanitize.sh collects, for
// ASan and for UBSan. gcc's UBSan writes to stderr despite log_path without
// cmake/ubsan_report_path.cc, and a child's stderr is often a log a test throws away.
//
//   sanitizer_report_probe            runs the two children below, exits 0 if both reported
//   sanitizer_report_probe asan|ubsan one deliberate defect (used by the above only)
//
// The children get options of their own (a temporary directory), so the defects never reach
// the reports of the run around this test.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

int Defect(const std::string& kind) {
  if (kind == "asan") {
    int* p = new int[4];
    delete[] p;
    volatile int v = p[1];  // heap-use-after-free
    return v == 7 ? 1 : 0;
  }
  volatile int x = INT_MAX;
  volatile int y = x + 1;  // signed integer overflow
  return y == 0 ? 1 : 0;
}

// Runs `self kind` with stderr dropped and its exit status ignored, as a test might, and
// returns the text of the report files it left in `dir`.
std::string ChildReports(const char* self, const std::string& kind,
                         const std::filesystem::path& dir) {
  const std::string options =
      "halt_on_error=1:abort_on_error=1:detect_leaks=0:log_path=" + (dir / kind).string();
  pid_t pid = fork();
  if (pid == 0) {
    setenv("ASAN_OPTIONS", options.c_str(), 1);
    setenv("UBSAN_OPTIONS", options.c_str(), 1);
    if (!freopen("/dev/null", "w", stderr)) _exit(3);
    execl(self, self, kind.c_str(), static_cast<char*>(nullptr));
    _exit(3);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::string text;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind(kind + ".", 0) != 0) continue;
    std::ifstream in(entry.path());
    std::stringstream s;
    s << in.rdbuf();
    text += s.str();
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2) return Defect(argv[1]);
  char tmpl[] = "/tmp/rm-sanitizer-probe.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 2;
  const std::filesystem::path dir(tmpl);
  int failures = 0;
  for (const auto& [kind, expected] :
       {std::pair<std::string, std::string>{"asan", "heap-use-after-free"},
        {"ubsan", "signed integer overflow"}}) {
    const std::string text = ChildReports(argv[0], kind, dir);
    if (text.find(expected) == std::string::npos) {
      std::printf("FAIL: the %s child's report (%s) is not in %s/%s.*\n", kind.c_str(),
                  expected.c_str(), tmpl, kind.c_str());
      ++failures;
    } else {
      std::printf("ok: the %s child's report is in its file\n", kind.c_str());
    }
  }
  std::filesystem::remove_all(dir);
  return failures == 0 ? 0 : 1;
}
