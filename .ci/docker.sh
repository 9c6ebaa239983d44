# Sourced by .ci/run: a Docker engine for the Docker tests (tests/EndToEnd.Tests/DockerComposeStackTests.cs).
# Where an engine already answers, it is used as it is. Else the local engine set-up of this machine kind is run when
# it is found (../shared/docker-local/setup.sh beside the repository, or /work/shared/docker-local/setup.sh), and the
# engine it started is stopped when .ci/run exits (a trap). Where neither works, the tests skip with the reason.
# The compose tests need python:3.12-slim (docker-compose.python.yml builds runners on it) and the optional profiles'
# postgres:16, nginx:1.27-alpine and prom/prometheus:v2.53.4 (DockerComposeProfilesTests): the set-up builds their
# stand-ins (STANDINS=all, its default, unless STANDINS is set); they are kept on the engine afterwards.
# Exports DOCKER_HOST and TESTCONTAINERS_RYUK_DISABLED=true (Ryuk's image cannot be pulled; the tests clean up).

ci_docker_setup=""
ci_docker_started=0

ci_docker_stop() {
  if [ "$ci_docker_started" = 1 ]; then
    # Into the set-up's log: it runs at exit, after .ci/run's closing line, which must stay the last line printed.
    bash "$ci_docker_setup" stop >> .ci/results/docker-setup.log 2>&1 ||
      echo "warning: stopping the Docker engine with $ci_docker_setup stop failed (.ci/results/docker-setup.log)" >&2
    ci_docker_started=0
  fi
}

if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  echo "docker: using the engine that answers on ${DOCKER_HOST:-/var/run/docker.sock} ($(docker version --format '{{.Server.Version}}'))"
  for ci_docker_image in python:3.12-slim postgres:16 nginx:1.27-alpine prom/prometheus:v2.53.4; do
    if ! docker image inspect "$ci_docker_image" >/dev/null 2>&1; then
      echo "docker: $ci_docker_image is not on that engine, so a compose test will skip; docker pull it, or build its stand-in (docker-local/setup.sh, STANDINS=all)"
    fi
  done
else
  for candidate in "$(pwd)/../shared/docker-local/setup.sh" /work/shared/docker-local/setup.sh; do
    if [ -f "$candidate" ]; then ci_docker_setup=$(readlink -f "$candidate"); break; fi
  done
  if [ -z "$ci_docker_setup" ]; then
    echo "docker: no engine answers and no docker-local/setup.sh was found; the Docker tests will skip with the reason"
  elif [ "$(id -u)" != 0 ]; then
    echo "docker: $ci_docker_setup needs root; the Docker tests will skip with the reason"
  else
    ci_docker_t0=$SECONDS
    # Kept with whatever EXIT trap .ci/run set before this file was sourced.
    ci_docker_prev_trap=$(trap -p EXIT | sed "s/^trap -- '\(.*\)' EXIT\$/\1/")
    trap "ci_docker_stop; ${ci_docker_prev_trap}" EXIT
    ci_docker_started=1   # also after a failure half-way: stop only stops a dockerd that setup.sh started (its PID file)
    if STANDINS=${STANDINS:-all} bash "$ci_docker_setup" > .ci/results/docker-setup.log 2>&1; then
      echo "docker: engine set up by $ci_docker_setup in $((SECONDS - ci_docker_t0)) s (log: .ci/results/docker-setup.log)"
    else
      echo "warning: $ci_docker_setup failed after $((SECONDS - ci_docker_t0)) s (see .ci/results/docker-setup.log); the Docker tests will skip with the reason"
      tail -5 .ci/results/docker-setup.log
    fi
  fi
fi
export DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock} TESTCONTAINERS_RYUK_DISABLED=true
