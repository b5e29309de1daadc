#!/usr/bin/env bash
# Installs everything Hikeshi needs to build, run and test, from Debian 12 packages only.
# Idempotent: when every package is already installed it changes nothing and asks no mirror.
# Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential g++ cmake ninja-build ccache pkg-config git
  # libraries (see docs/architecture.md for what each is for)
  libboost-dev            # Boost.Beast + Boost.Asio: HTTP server
  libssl-dev              # OpenSSL, for Beast
  nlohmann-json3-dev      # JSON for the API
  libsqlite3-dev          # embedded store with FTS5
  libsodium-dev           # argon2id passwords, SHA-256, random tokens
  libfmt-dev libspdlog-dev libcli11-dev
  libhyperscan-dev libpsl-dev libidn2-dev publicsuffix  # observable extraction: patterns, public suffix list, IDN
  libsimdjson-dev         # feed intake: JSON lines (ndjson, suricata-eve, xarf) with simdjson On Demand
  libexpat1-dev           # feed intake: IODEF XML (DTDs refused: no XXE, no entity bombs)
  zlib1g-dev              # feed intake: gzip-compressed feeds (.csv.gz, eve.json.gz) inflated as read
  libtomlplusplus-dev     # TOML: feed field mappings (and config)
  libgmime-3.0-dev        # mail intake: MIME parsing, RFC 2047/2231, charsets
  libgpgme-dev gnupg      # PGP: decrypt and verify incoming mail, sign and encrypt outgoing (real gpg)
  libmagic-dev            # attachment file types
  libcurl4-openssl-dev    # outbound mail over SMTP
  libpq-dev postgresql    # PostgreSQL backend; the test command starts its own server with initdb
  # tests
  libgtest-dev libgmock-dev libbenchmark-dev
  sqlite3                 # the audit tamper test edits rows with the real sqlite3 shell
  postfix swaks           # mail end-to-end: a real MTA delivers into the LMTP listener, swaks sends
  chromium                # headless browser for the web UI tests (driven by playwright-core)
  fonts-ipafont-gothic    # Japanese glyphs in the headless browser's screenshots of the UI
  curl                    # README walkthrough
  wrk                     # bench/api_latency.sh: API read latency under load
  # style
  clang-format clang-tidy
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: run as root (or install sudo)" >&2; exit 1
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js >= 18.19 with npm builds the web UI (web/build.sh) and runs its browser tests: Debian 12's
# own nodejs (18.20) and npm. A node >= 18 already on the PATH (e.g. NodeSource's, which bundles npm
# and conflicts with Debian's npm package) is kept as it is.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ! command -v npm >/dev/null 2>&1 || [ "$node_major" -lt 18 ]; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages (and node $node_major with npm) already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# postfix asks how to configure the system MTA; the tests run their own instance, so: none.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
