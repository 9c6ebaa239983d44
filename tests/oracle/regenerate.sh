#!/usr/bin/env bash
# Re-renders every golden the terminal tests compare with: the corpus (Corpus/regenerate.sh), the
# per-sequence cases (sequences.py -> sequences.json) and the fixed random seeds (random.json, rendered
# from the C# generator by RandomDifferentialTests with LOGQUOTA_REGENERATE_GOLDENS=1).
set -euo pipefail
oracle="$(cd "$(dirname "$0")" && pwd)"
logs="$oracle/../Runner.Tests/Logs"
[ -d "$oracle/node_modules" ] || npm ci --prefix "$oracle"
"$logs/Corpus/regenerate.sh"
/usr/bin/python3 "$logs/sequences.py"
LOGQUOTA_REGENERATE_GOLDENS=1 dotnet test "$oracle/../Runner.Tests" --filter "FullyQualifiedName~RandomDifferentialTests.GoldenFile_MatchesTheGenerator"
