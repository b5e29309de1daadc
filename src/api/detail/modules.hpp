#pragma once
// Route modules: each adds the routes of one area of the API through a RouteSink. api.cpp calls
// every one of them once, at construction, after its own routes. Not a public header.

#include "hikeshi/api/api.hpp"

#include "detail/routing.hpp"

namespace hikeshi::api::detail {

// One line per module, defined in the .cpp file named in its comment.
void AddCoordinationRoutes(const RouteSink& add, const ApiServices& services);  // coordination.cpp
void AddResponseRoutes(const RouteSink& add, const ApiServices& services);  // responses.cpp
void AddStatsRoutes(const RouteSink& add, const ApiServices& services);  // stats.cpp
void AddSecondFactorRoutes(const RouteSink& add, const ApiServices& services);  // second_factor.cpp
void AddTriageRoutes(const RouteSink& add, const ApiServices& services);  // triage_routes.cpp

// live.cpp: GET /api/v1/stream; also takes the options (the keep-alive interval).
void AddLiveRoutes(const RouteSink& add, const ApiServices& services, const ApiOptions& options);

}  // namespace hikeshi::api::detail
