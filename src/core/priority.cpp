#include "hikeshi/core/priority.hpp"

namespace hikeshi::core {

namespace {
// Rows: impact 1..4; columns: urgency 1..4. A critical impact that can wait a little is still P1;
// a low impact is never above P3.
constexpr int kMatrix[4][4] = {
    {1, 1, 2, 3},
    {1, 2, 3, 3},
    {2, 3, 3, 4},
    {3, 3, 4, 4},
};
}  // namespace

int PriorityOf(int impact, int urgency) { return kMatrix[impact - 1][urgency - 1]; }

}  // namespace hikeshi::core
