#!/bin/sh
# What `make test` needs besides Python, checked before any test runs (README, "Tests' prerequisites").
# Prints every missing tool and the one command that installs them (Debian package names); exit 1 if any.
APT="apt-get install -y libreoffice-calc kubectl chromium fonts-noto-cjk"
CHROMIUM="${ICP_TEST_CHROMIUM:-/usr/bin/chromium}"
FONTS="${ICP_TEST_CJK_FONT:-/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc}"
missing=""
command -v soffice >/dev/null 2>&1 || missing="$missing
  soffice      (LibreOffice: converts the importer tests' workbooks; package libreoffice-calc)"
command -v kubectl >/dev/null 2>&1 || missing="$missing
  kubectl      (renders deploy/k8s for tests/unit/test_deploy.py; package kubectl)"
[ -x "$CHROMIUM" ] || missing="$missing
  $CHROMIUM (the console's browser tests, driven by Playwright; package chromium)"
[ -e "$FONTS" ] || missing="$missing
  $FONTS (CJK glyphs for the browser tests; package fonts-noto-cjk)"
servers=""
command -v rabbitmqctl >/dev/null 2>&1 || servers="
  rabbitmqctl  (each test run makes its own vhost; it comes with rabbitmq-server, where RabbitMQ runs)"
if [ -n "$missing$servers" ]; then
  echo "make test: missing prerequisites:$missing$servers" >&2
  [ -n "$missing" ] && printf '\ninstall them with:\n  %s\n' "$APT" >&2
  exit 1
fi
