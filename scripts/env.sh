# Sourced by the other scripts: the project-local Python, Node.js 24 and CDK CLI come first.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/.venv/bin:$ROOT/node_modules/.bin:$PATH"
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1
export CDK_DISABLE_VERSION_CHECK=1
# uv installs without compiling bytecode (pip compiles every file, most of its install time);
# Python then caches what is imported on first use. PYTHONDONTWRITEBYTECODE would instead make
# every synth compile aws-cdk-lib's modules again (seconds each), so it is not passed on.
unset PYTHONDONTWRITEBYTECODE
# Construct traces of a jsii app hold only the jsii kernel's frames; without this the CDK CLI prints
# one (…/lib/program.js:1:5591) above every warning as if it were the source location.
export CDK_DISABLE_STACK_TRACE=1

# The scripts run from the project root (cdk.json is there), so a relative path the user typed
# (-c config=team.yaml, --baseline, --outdir, -o) is made absolute first: it is read from the
# directory the command was run in, as the user meant. The result is in CALLER_ARGS.
caller_args() {
  local arg prev="" value
  CALLER_ARGS=()
  for arg in "$@"; do
    value="$arg"
    case "$prev" in
      -c|--context) case "$arg" in config=[!/]*) value="config=$PWD/${arg#config=}" ;; esac ;;
      --config|--baseline|--outdir|--output|-o) case "$arg" in [!/-]*) value="$PWD/$arg" ;; esac ;;
    esac
    case "$arg" in
      --context=config=[!/]*) value="--context=config=$PWD/${arg#--context=config=}" ;;
      -cconfig=[!/]*) value="-cconfig=$PWD/${arg#-cconfig=}" ;;
      --config=[!/]*|--baseline=[!/]*|--outdir=[!/]*|--output=[!/]*)
        value="${arg%%=*}=$PWD/${arg#*=}" ;;
    esac
    CALLER_ARGS+=("$value")
    prev="$arg"
  done
}
