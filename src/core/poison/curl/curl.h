#pragma once
// Placed first on core's include path so that core cannot use I/O. See docs/architecture.md.
#error "hikeshi::core must not include <curl/curl.h>: core has no I/O; put this in an adapter"
