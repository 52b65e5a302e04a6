# chromium: Debian's Chromium for the tests that drive a real headless browser (the agent's
# status page, with chromedp). Nothing runs: a test starts its own browser, headless and with
# --no-sandbox (the tests run as root). Exports PYSHIP_TEST_CHROMIUM (the binary).
svc_start() {
	apt_install chromium fonts-dejavu-core
	echo "export PYSHIP_TEST_CHROMIUM=$(command -v chromium)"
}
svc_stop() { :; }
svc_status() { command -v chromium >/dev/null; }
