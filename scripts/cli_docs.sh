#!/usr/bin/env bash
# Regenerates docs/cli.md from the help text of the built binary, so the page and `--help`
# cannot disagree. Usage: scripts/cli_docs.sh [path/to/analyze]
set -euo pipefail
bin="${1:-target/release/analyze}"
out="docs/cli.md"
{
  echo "# Command-line reference"
  echo
  echo "Generated from \`analyze --help\` by \`scripts/cli_docs.sh\`; every option's unit and default"
  echo "is in its help text. Results go to files (JSON, CSV, SVG), a short summary to stdout, and"
  echo "progress bars and logs to stderr. Errors print one line, \`analyze: error: …\`, and exit"
  echo "with status 1 (2 for a malformed command line)."
  echo
  echo '```text'
  "$bin" --help | sed "s/^Usage: [^ ]*/Usage: analyze/"
  echo '```'
  for cmd in $("$bin" --help | awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}' | grep -v '^help$'); do
    echo
    echo "## analyze $cmd"
    echo
    echo '```text'
    "$bin" "$cmd" --help | sed "s/^Usage: [^ ]*/Usage: analyze/"
    echo '```'
  done
} > "$out"
echo "wrote $out"
