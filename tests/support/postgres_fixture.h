// PostgresServer: a private PostgreSQL 15 server for one test.
//
// Lifecycle: the constructor runs initdb in a fresh directory under $TMPDIR (as the
// `postgres` OS user when the test runs as root, since the server refuses to run as root),
// writes postgresql.conf and pg_hba.conf, starts `postgres` on a free loopback port with its
// unix socket in that directory, and waits until it accepts connections. The destructor
// stops it (fast shutdown, SIGKILL after 10 s) and removes the directory.
// If the test process dies without running destructors (kill -9, crash), the server gets
// SIGQUIT from the kernel (PR_SET_PDEATHSIG: immediate shutdown), and the next fixture in
// any test process removes directories whose server is gone. Create the server on the
// thread that outlives it (PDEATHSIG follows the creating thread).
//
// Authentication: the superuser `postgres` is trusted (locally and over TCP); every other
// role must give its password (scram-sha-256), so "wrong password" can be tested.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rm::testing {

struct PostgresOptions {
  std::string wal_level = "logical";  // "replica" for the bad-input tests
  int max_replication_slots = 10;
  int max_wal_senders = 10;
  // Extra postgresql.conf lines.
  std::vector<std::string> extra_conf;
};

class PostgresServer {
 public:
  explicit PostgresServer(PostgresOptions options = {});
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  const std::string& host() const { return host_; }  // 127.0.0.1
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path log_path() const { return dir_ / "server.log"; }
  static std::filesystem::path BinDir();  // /usr/lib/postgresql/15/bin

  // libpq connection string over TCP.
  std::string ConnectionString(const std::string& user = "postgres",
                               const std::string& dbname = "postgres",
                               const std::optional<std::string>& password = std::nullopt) const;

  // Runs SQL (several statements allowed) as postgres; throws std::runtime_error with the
  // server's message on failure. Returns the rows of the last statement, NULL as nullopt.
  std::vector<std::vector<std::optional<std::string>>> Query(
      const std::string& sql, const std::string& dbname = "postgres") const;
  // The first column of the first row ("" when none or NULL).
  std::string QueryValue(const std::string& sql, const std::string& dbname = "postgres") const;
  void Exec(const std::string& sql, const std::string& dbname = "postgres") const;

  // CREATE ROLE name LOGIN PASSWORD password [extra attributes].
  void CreateRole(const std::string& name, const std::string& password,
                  const std::string& attributes = "") const;

  // Runs pgbench with these arguments against `dbname` as postgres; returns its output,
  // throws on failure.
  std::string Pgbench(const std::vector<std::string>& args,
                      const std::string& dbname = "postgres") const;

  // Stops the server now (fast shutdown); the destructor then only removes the directory.
  void Stop();
  // Stops the server (fast shutdown, or a crash: SIGQUIT, immediate shutdown without a
  // checkpoint, recovery at the next start) and starts it again on the same port.
  void Restart(bool crash = false);

 private:
  // Starts the server on `port`, or on a free port when 0.
  void Start(int port = 0);

  PostgresOptions options_;
  std::filesystem::path dir_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace rm::testing
