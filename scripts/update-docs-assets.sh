#!/usr/bin/env bash
# Re-fetches the pinned Swagger UI and ReDoc npm packages with `npm pack` and
# copies the few files the API docs pages use into
# adapters/httpapi/apidocs/assets/, where go:embed puts them into the binary.
# Run it through `make docs-assets` after changing a pinned version below, then
# check that `go test ./adapters/httpapi/apidocs/...` still passes and commit
# the result. Our own files in that folder (docs-init.js, docs.css) are left
# alone.
#
# Set NPMASSETS_DIR to a folder holding already unpacked tarballs
# (<dir>/x_<name>-<version>.tgz/package) to skip the download.
set -euo pipefail

SWAGGER_UI_VERSION=5.35.0
REDOC_VERSION=2.5.2

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/adapters/httpapi/apidocs/assets"

command -v npm >/dev/null || { echo "update-docs-assets: npm is required" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# unpack NAME VERSION prints the folder holding the unpacked package.
unpack() {
	local name="$1" version="$2"
	if [[ -n "${NPMASSETS_DIR:-}" && -d "$NPMASSETS_DIR/x_$name-$version.tgz/package" ]]; then
		echo "$NPMASSETS_DIR/x_$name-$version.tgz/package"
		return
	fi
	local tgz
	tgz="$(cd "$work" && npm pack --silent "$name@$version" | tail -n1)"
	mkdir -p "$work/$name"
	tar -xzf "$work/$tgz" -C "$work/$name"
	local got
	got="$(node -p "require('$work/$name/package/package.json').version")"
	[[ "$got" == "$version" ]] || { echo "update-docs-assets: $name: got $got, want $version" >&2; exit 1; }
	echo "$work/$name/package"
}

swagger="$(unpack swagger-ui-dist "$SWAGGER_UI_VERSION")"
redoc="$(unpack redoc "$REDOC_VERSION")"

mkdir -p "$dest"
# Vendor file -> name under /docs/assets/.
install -m 0644 "$swagger/swagger-ui-bundle.js"             "$dest/swagger-ui-bundle.js"
install -m 0644 "$swagger/swagger-ui-bundle.js.LICENSE.txt" "$dest/swagger-ui-bundle.js.LICENSE.txt"
install -m 0644 "$swagger/swagger-ui.css"                   "$dest/swagger-ui.css"
install -m 0644 "$swagger/favicon-32x32.png"                "$dest/favicon-32x32.png"
install -m 0644 "$swagger/favicon-16x16.png"                "$dest/favicon-16x16.png"
install -m 0644 "$swagger/LICENSE"                          "$dest/swagger-ui-LICENSE.txt"
install -m 0644 "$swagger/NOTICE"                           "$dest/swagger-ui-NOTICE.txt"
install -m 0644 "$redoc/bundles/redoc.standalone.js"             "$dest/redoc.standalone.js"
install -m 0644 "$redoc/bundles/redoc.standalone.js.LICENSE.txt" "$dest/redoc.standalone.js.LICENSE.txt"
install -m 0644 "$redoc/LICENSE"                                 "$dest/redoc-LICENSE.txt"

cat >"$dest/VERSIONS.txt" <<VERSIONS
swagger-ui-dist $SWAGGER_UI_VERSION (Apache-2.0)
redoc $REDOC_VERSION (MIT)
VERSIONS

echo "update-docs-assets: swagger-ui-dist $SWAGGER_UI_VERSION, redoc $REDOC_VERSION -> ${dest#"$root"/}"
