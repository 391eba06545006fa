// Compiled into every target of a gcc build with -fsanitize=undefined (CMakeLists.txt), so that
// UBSan honours the log_path of UBSAN_OPTIONS as ASan honours that of ASAN_OPTIONS.
//
// Why: gcc links ASan and UBSan as two runtimes (libasan.so, libubsan.so), each with its own
// copy of sanitizer_common and its own report file. libubsan applies log_path by calling
// __sanitizer_set_report_path, and that call binds to libasan's exported function, so with both
// sanitizers UBSan's own report file stays stderr. A child process whose stderr a test drops (a
// mirror writing to a log in a temporary directory) then loses the report, and
// scripts/sanitize.sh, which collects the per-process report files, passes. clang links one
// runtime and needs none of this.
#include <dlfcn.h>

#include <cstdlib>
#include <string>

namespace {

// Runs before main(); a process without libubsan (none here) or without log_path is left alone.
__attribute__((constructor)) void ApplyUbsanLogPath() {
  const char* env = std::getenv("UBSAN_OPTIONS");
  if (env == nullptr) return;
  const std::string options = std::string(":") + env;
  size_t at = options.find(":log_path=");
  if (at == std::string::npos) return;
  at += sizeof(":log_path=") - 1;
  const std::string path = options.substr(at, options.find(':', at) - at);
  void* ubsan = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (ubsan == nullptr) return;
  // dlsym on libubsan's handle finds libubsan's own definition, not libasan's.
  auto set = reinterpret_cast<void (*)(const char*)>(dlsym(ubsan, "__sanitizer_set_report_path"));
  if (set != nullptr) set(path.c_str());
  dlclose(ubsan);
}

}  // namespace
