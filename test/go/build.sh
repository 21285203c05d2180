#!/bin/sh
# Builds the Go programs under test/go into test/go/bin/, offline, from Debian packages:
#   apt-get install -y golang-go golang-github-hashicorp-memberlist-dev
# test/go/golden needs memberlist's unexported encoders, so it is built against a throwaway copy
# of Debian's memberlist source with test/go/golden/inject/*.go added to package memberlist.
# Nothing of memberlist is written into this repository.
# test/go/peer (the interop agent) links Debian's memberlist unmodified.
# Usage: build.sh [golden] [peer]   (no argument: both)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
debian=${DEBIAN_GOPATH:-/usr/share/gocode}
src="$debian/src/github.com/hashicorp/memberlist"
if [ ! -d "$src" ]; then
  echo "build.sh: $src missing; apt-get install -y golang-go golang-github-hashicorp-memberlist-dev" >&2
  exit 1
fi
targets=${*:-golden peer}
mkdir -p "$here/bin"
case " $targets " in
*" peer "*)
  (cd "$here/peer" && GOPATH="$debian" GO111MODULE=off GOFLAGS= go build -o "$here/bin/peer" .)
  echo "built $here/bin/peer"
  ;;
esac
case " $targets " in
*" golden "*) ;;
*) exit 0 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/github.com/hashicorp" "$work/src/golden" "$here/bin"
cp -R "$src" "$work/src/github.com/hashicorp/memberlist"
rm -f "$work"/src/github.com/hashicorp/memberlist/*_test.go
cp "$here"/golden/inject/*.go "$work/src/github.com/hashicorp/memberlist/"
cp "$here/golden/main.go" "$work/src/golden/"
cd "$work/src/golden"
GOPATH="$work:$debian" GO111MODULE=off GOFLAGS= go build -o "$here/bin/golden" .
echo "built $here/bin/golden"
