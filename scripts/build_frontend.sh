#!/usr/bin/env bash
# Build the vendored front end: compile sitedir.css and copy GOV.UK Frontend's JS, axe-core
# and Leaflet (with their licences) into sitedir/static/.
#
# Development time only: the running site never calls npm, and the output is committed.
# Re-run after changing scripts/frontend/package.json or scripts/frontend/*.scss.
# Needs node >= 20.19 and npm. Works offline once scripts/frontend/node_modules holds the
# pinned versions; otherwise it runs `npm ci` against package-lock.json.
# Running it twice gives byte-identical output.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
frontend="$here/frontend"
modules="$frontend/node_modules"
static="$root/sitedir/static"
vendor="$static/vendor"

say() { printf 'build_frontend: %s\n' "$*"; }
die() { printf 'build_frontend: error: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed"

# Exit status 0 when node_modules holds exactly the versions pinned in package.json, so an
# offline machine with node_modules present never needs the registry.
pinned_versions_installed() {
    node - "$frontend" <<'JS'
const fs = require("fs");
const path = require("path");
const dir = process.argv[2];
const wanted = JSON.parse(fs.readFileSync(path.join(dir, "package.json"))).dependencies;
for (const [name, version] of Object.entries(wanted)) {
  const file = path.join(dir, "node_modules", name, "package.json");
  if (!fs.existsSync(file)) process.exit(1);
  if (JSON.parse(fs.readFileSync(file)).version !== version) process.exit(1);
}
JS
}

# Reads one installed package's version (after the check above it equals the pin).
version_of() {
    node -p "require('$modules/$1/package.json').version"
}

install_packages() {
    command -v npm >/dev/null || die "npm is not installed and node_modules is missing or stale"
    cd "$frontend"
    # --ignore-scripts: nothing we use needs an install script (sass's optional file
    # watcher would try to compile native code).
    if [[ -f package-lock.json ]]; then
        npm ci --ignore-scripts --no-audit --no-fund
    else
        npm install --ignore-scripts --no-audit --no-fund
    fi
    cd - >/dev/null
}

if pinned_versions_installed; then
    say "pinned packages already in scripts/frontend/node_modules (no network needed)"
else
    say "installing pinned packages with npm"
    install_packages
    pinned_versions_installed || die "node_modules does not match package.json after install"
fi

govuk_version="$(version_of govuk-frontend)"
sass_version="$(version_of sass)"
axe_version="$(version_of axe-core)"
leaflet_version="$(version_of leaflet)"

# --- CSS -------------------------------------------------------------------------------
mkdir -p "$static/css"
css_tmp="$(mktemp "$static/css/.sitedir.css.XXXXXX")"
trap 'rm -f "$css_tmp"' EXIT
"$modules/.bin/sass" \
    --no-source-map --style=compressed \
    --load-path="$modules/govuk-frontend/dist" \
    "$frontend/sitedir.scss" "$css_tmp"

# GOV.UK's typeface and crest must never reach our pages; fail loudly if a GOV.UK Frontend
# upgrade brings them back. (The crown is inline SVG in GOV.UK's header markup, which we do
# not use; the footer's .govuk-footer__crown rule is only a margin.)
if grep -q -i -e 'GDS Transport' -e 'crest.svg' -e '/assets/' "$css_tmp"; then
    die "compiled CSS mentions GDS Transport, the crest or /assets/: check sitedir.scss"
fi
if grep -q 'url(' "$css_tmp"; then
    die "compiled CSS references a file (url(...)); vendor it and update this check"
fi
chmod 644 "$css_tmp"
mv "$css_tmp" "$static/css/sitedir.css"
trap - EXIT

# --- Vendored packages -----------------------------------------------------------------
# Start each vendor folder from empty so files dropped upstream do not linger.
rm -rf "$vendor/govuk-frontend" "$vendor/axe-core" "$vendor/leaflet"
mkdir -p "$vendor/govuk-frontend" "$vendor/axe-core" "$vendor/leaflet/images"

# GOV.UK Frontend: only the JS. Its images (crown favicon, crest, GOV.UK icons) and fonts
# (GDS Transport) are GOV.UK's identity, and our own CSS is compiled from the Sass above.
# The npm package ships no licence file, so ours is a copy of the repository's LICENSE.txt.
cp "$modules/govuk-frontend/dist/govuk/govuk-frontend.min.js" \
   "$modules/govuk-frontend/dist/govuk/govuk-frontend.min.js.map" \
   "$vendor/govuk-frontend/"
cp "$frontend/licenses/govuk-frontend-LICENSE.txt" "$vendor/govuk-frontend/LICENSE.txt"

# axe-core: used by the browser tests only (injected with add_script_tag).
cp "$modules/axe-core/axe.min.js" "$vendor/axe-core/"
cp "$modules/axe-core/LICENSE" "$vendor/axe-core/LICENSE"
cp "$modules/axe-core/LICENSE-3RD-PARTY.txt" "$vendor/axe-core/LICENSE-3RD-PARTY.txt"

# Leaflet: the minified build, its stylesheet and the images that stylesheet names.
cp "$modules/leaflet/dist/leaflet.js" \
   "$modules/leaflet/dist/leaflet.js.map" \
   "$modules/leaflet/dist/leaflet.css" \
   "$vendor/leaflet/"
cp "$modules/leaflet/dist/images/"*.png "$vendor/leaflet/images/"
cp "$modules/leaflet/LICENSE" "$vendor/leaflet/LICENSE"

chmod -R u=rwX,go=rX "$vendor"

# --- Record what was vendored ----------------------------------------------------------
checksums="$(cd "$vendor" && find govuk-frontend axe-core leaflet -type f | LC_ALL=C sort | xargs sha256sum)"

cat > "$vendor/README.md" <<EOF
# Vendored front-end packages

Copied from npm by \`scripts/build_frontend.sh\`; do not edit by hand. The site serves these
files itself and never fetches anything from a CDN or npm at run time.

| Folder | npm package | Version | Licence | What the site uses |
|---|---|---|---|---|
| \`govuk-frontend/\` | [govuk-frontend](https://www.npmjs.com/package/govuk-frontend) | ${govuk_version} | MIT (\`LICENSE.txt\`) | \`govuk-frontend.min.js\` (an ES module: load it with \`type="module"\`) and its source map |
| \`axe-core/\` | [axe-core](https://www.npmjs.com/package/axe-core) | ${axe_version} | MPL-2.0 (\`LICENSE\`, third-party notices in \`LICENSE-3RD-PARTY.txt\`) | \`axe.min.js\`, injected by the browser accessibility tests only |
| \`leaflet/\` | [leaflet](https://www.npmjs.com/package/leaflet) | ${leaflet_version} | BSD-2-Clause (\`LICENSE\`) | \`leaflet.js\`, \`leaflet.css\` and \`images/\` for the map |

## GOV.UK Frontend

\`../css/sitedir.css\` is compiled from \`scripts/frontend/sitedir.scss\`, which \`@use\`s GOV.UK
Frontend ${govuk_version}'s Sass (compiled with dart-sass ${sass_version} from npm) with the site's own settings:
Arial and system sans-serif instead of the GDS Transport typeface (no font files at all),
a teal brand colour, and the generic header instead of the GOV.UK header. GOV.UK Frontend's
images and fonts are deliberately not copied: the crown, the Royal Coat of Arms crest, the GOV.UK
icons and GDS Transport are for GOV.UK only. The build fails if the compiled CSS names any of
them or references any file.

The GOV.UK Frontend npm package contains no licence file; \`govuk-frontend/LICENSE.txt\` is the
MIT licence from the project's repository (github.com/alphagov/govuk-frontend, LICENSE.txt),
kept in \`scripts/frontend/licenses/\`.

## Rebuilding

\`\`\`sh
scripts/build_frontend.sh
\`\`\`

Versions are pinned in \`scripts/frontend/package.json\` and \`package-lock.json\`. To upgrade,
change the pin, run \`npm install --ignore-scripts\` in \`scripts/frontend/\` to update the lock
file, run the script, and check the pages and the accessibility tests. With
\`scripts/frontend/node_modules\` present the script runs offline.

## Checksums (SHA-256)

\`\`\`
${checksums}
\`\`\`
EOF

css_bytes="$(wc -c < "$static/css/sitedir.css")"
css_gzip_bytes="$(gzip -9 -c "$static/css/sitedir.css" | wc -c)"
say "css/sitedir.css: ${css_bytes} bytes (${css_gzip_bytes} gzipped)"
say "vendored govuk-frontend ${govuk_version}, axe-core ${axe_version}, leaflet ${leaflet_version} into sitedir/static/vendor"
