# The two commands of the README's quick start, and a few for developers.
#   make run   install dependencies, build (release), initialise ./data once, serve on 127.0.0.1:8080
#   make test  install dependencies, build (debug, ASan+UBSan, -Werror), run every test suite
DATA ?= ./data
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)

.PHONY: run test bench bench-mail deps web build-release build-debug format clean

deps:
	./scripts/install-deps.sh

# The web UI (web/dist), served by `hikeshi serve`: npm ci when the lock changed, then the Vite build.
web: deps
	./web/build.sh

build-release: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

build-debug: deps
	cmake --preset debug
	cmake --build --preset debug -j $(JOBS)

run: build-release web
	./build/release/src/app/hikeshi init --data $(DATA)
	./build/release/src/app/hikeshi serve --data $(DATA) --listen $(LISTEN)

test: build-debug web
	ctest --preset debug -j $(JOBS)

bench: deps
	cmake --preset release -DHIKESHI_BENCH=ON
	cmake --build --preset release -j $(JOBS) --target store_bench
	./build/release/bench/store_bench $(BENCH_ARGS)

# Mail intake through MailPipeline::Deliver, next to a bare GMime parse and a bare SQLite insert
# (bench/mail_bench.cpp; e.g. MAIL_BENCH_ARGS="--messages 3000 --threads 1,4,8,16", the default list).
bench-mail: deps
	cmake --preset release -DHIKESHI_BENCH=ON
	cmake --build --preset release -j $(JOBS) --target mail_bench
	./build/release/bench/mail_bench $(MAIL_BENCH_ARGS)

format:
	find src tests -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
