#include "tests/support/postgres_fixture.h"

// libpq's headers live in /usr/include/postgresql; this form needs no extra include path.
#include <postgresql/libpq-fe.h>

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/process.h"

namespace rm::testing {

namespace fs = std::filesystem;

namespace {

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& s, size_t n = 2000) {
  return s.size() > n ? s.substr(s.size() - n) : s;
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("bind to a free port failed");
  }
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

// Directories left by test processes that died without cleaning up (kill -9, crash).
void SweepStaleDirs() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    auto name = entry.path().filename().string();
    if (name.rfind("rm-pg-", 0) != 0) continue;
    std::ifstream owner(entry.path() / "owner.pid");
    pid_t pid = 0;
    if (!(owner >> pid) || pid <= 0) continue;  // still being created
    if (ProcessGone(pid)) {
      std::ifstream server(entry.path() / "server.pid");
      pid_t spid = 0;
      if (server >> spid && spid > 0 && !ProcessGone(spid)) kill(spid, SIGKILL);
      fs::remove_all(entry.path(), ec);
    }
  }
}

struct PgUser {
  uid_t uid;
  gid_t gid;
};

// The OS user the server runs as: postgres when we are root, ourselves otherwise.
std::optional<PgUser> ServerUser() {
  if (geteuid() != 0) return std::nullopt;
  passwd* pw = getpwnam("postgres");
  if (pw == nullptr) throw std::runtime_error("running as root but there is no postgres user");
  return PgUser{pw->pw_uid, pw->pw_gid};
}

}  // namespace

fs::path PostgresServer::BinDir() { return "/usr/lib/postgresql/15/bin"; }

PostgresServer::PostgresServer(PostgresOptions options) : options_(std::move(options)) {
  SweepStaleDirs();
  std::string tmpl = (fs::temp_directory_path() / "rm-pg-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  std::ofstream(dir_ / "owner.pid") << getpid() << "\n";
  auto user = ServerUser();
  if (user && chown(dir_.c_str(), user->uid, user->gid) != 0) {
    throw std::runtime_error("chown of " + dir_.string() + " failed");
  }
  std::vector<std::string> initdb = {(BinDir() / "initdb").string(),
                                     "-D",
                                     (dir_ / "data").string(),
                                     "-N",
                                     "-A",
                                     "trust",
                                     "-U",
                                     "postgres",
                                     "-E",
                                     "UTF8",
                                     "--locale=C"};
  if (user) initdb.insert(initdb.begin(), {"runuser", "-u", "postgres", "--"});
  auto r = RunCommand(initdb, std::chrono::seconds(120));
  if (r.exit_code != 0) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw std::runtime_error("initdb failed: " + Tail(r.output));
  }
  {
    std::ofstream hba(dir_ / "data" / "pg_hba.conf", std::ios::trunc);
    hba << "local all all trust\n"
           "local replication all trust\n"
           "host all postgres 127.0.0.1/32 trust\n"
           "host replication postgres 127.0.0.1/32 trust\n"
           "host all all 127.0.0.1/32 scram-sha-256\n"
           "host replication all 127.0.0.1/32 scram-sha-256\n";
  }
  try {
    Start();
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

void PostgresServer::Start(int port) {
  auto user = ServerUser();
  std::string last_log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0 && port != 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    port_ = port != 0 ? port : FreeLoopbackPort();
    {
      std::ofstream conf(dir_ / "data" / "postgresql.auto.conf", std::ios::trunc);
      conf << "listen_addresses = '127.0.0.1'\n"
           << "port = " << port_ << "\n"
           << "unix_socket_directories = '" << dir_.string() << "'\n"
           << "wal_level = " << options_.wal_level << "\n"
           << "max_replication_slots = " << options_.max_replication_slots << "\n"
           << "max_wal_senders = " << options_.max_wal_senders << "\n"
           << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
           << "shared_buffers = 64MB\nmax_connections = 50\n"
           << "log_min_messages = warning\n";
      for (const auto& line : options_.extra_conf) conf << line << "\n";
    }
    fs::path log = log_path();
    int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log_fd < 0) throw std::runtime_error("cannot open " + log.string());
    pid_t parent = getpid();
    std::string postgres = (BinDir() / "postgres").string();
    std::string data = (dir_ / "data").string();
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      dup2(log_fd, 1);
      dup2(log_fd, 2);
      setpgid(0, 0);
      if (user) {
        if (setgroups(0, nullptr) != 0 || setgid(user->gid) != 0 || setuid(user->uid) != 0) {
          _exit(126);
        }
      }
      // Set after setuid, which clears it: if the test process dies, the server shuts down
      // immediately (SIGQUIT).
      prctl(PR_SET_PDEATHSIG, SIGQUIT);
      if (getppid() != parent) _exit(0);
      execl(postgres.c_str(), postgres.c_str(), "-D", data.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(log_fd);
    pid_ = pid;
    std::ofstream(dir_ / "server.pid") << pid << "\n";
    std::string conninfo = ConnectionString();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) return;
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    last_log = ReadAll(log);
    if (!exited) {
      Stop();
      throw std::runtime_error("postgres did not start within 60 s: " + Tail(last_log));
    }
    pid_ = -1;
    // Another process took the port between our probe and the server's bind: try another.
    if (last_log.find("could not bind") == std::string::npos &&
        last_log.find("could not create any TCP/IP sockets") == std::string::npos) {
      break;
    }
  }
  throw std::runtime_error("postgres failed to start: " + Tail(last_log));
}

void PostgresServer::Restart(bool crash) {
  if (crash && pid_ > 0) kill(pid_, SIGQUIT);  // immediate shutdown: no checkpoint
  Stop();
  Start(port_);
}

void PostgresServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGINT);  // fast shutdown (after SIGQUIT, the immediate one goes on)
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  // The server's children exit on postmaster death; wait briefly so the directory can go.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

PostgresServer::~PostgresServer() {
  Stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PostgresServer::ConnectionString(const std::string& user, const std::string& dbname,
                                             const std::optional<std::string>& password) const {
  std::string s = "host=" + host_ + " port=" + std::to_string(port_) + " dbname=" + dbname +
                  " user=" + user + " connect_timeout=10";
  if (password) s += " password='" + *password + "'";
  return s;
}

std::vector<std::vector<std::optional<std::string>>> PostgresServer::Query(
    const std::string& sql, const std::string& dbname) const {
  std::string conninfo = ConnectionString("postgres", dbname);
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("connect failed: " + err);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  auto st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string err = PQresultErrorMessage(res);
    PQclear(res);
    PQfinish(conn);
    throw std::runtime_error("SQL failed: " + sql.substr(0, 300) + ": " + err);
  }
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (int r = 0; r < PQntuples(res); ++r) {
    std::vector<std::optional<std::string>> row;
    for (int c = 0; c < PQnfields(res); ++c) {
      if (PQgetisnull(res, r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
      }
    }
    rows.push_back(std::move(row));
  }
  PQclear(res);
  PQfinish(conn);
  return rows;
}

std::string PostgresServer::QueryValue(const std::string& sql, const std::string& dbname) const {
  auto rows = Query(sql, dbname);
  if (rows.empty() || rows[0].empty() || !rows[0][0]) return "";
  return *rows[0][0];
}

void PostgresServer::Exec(const std::string& sql, const std::string& dbname) const {
  Query(sql, dbname);
}

void PostgresServer::CreateRole(const std::string& name, const std::string& password,
                                const std::string& attributes) const {
  Exec("CREATE ROLE \"" + name + "\" LOGIN PASSWORD '" + password + "' " + attributes);
}

std::string PostgresServer::Pgbench(const std::vector<std::string>& args,
                                    const std::string& dbname) const {
  std::vector<std::string> argv = {(BinDir() / "pgbench").string(), "-h", host_,     "-p",
                                   std::to_string(port_),           "-U", "postgres"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(dbname);
  auto r = RunCommand(argv, std::chrono::minutes(10));
  if (r.exit_code != 0) throw std::runtime_error("pgbench failed: " + Tail(r.output));
  return r.output;
}

}  // namespace rm::testing
