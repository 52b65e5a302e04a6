# pgbase: a Debian bookworm image with PostgreSQL's client tools (pg_dump, pg_restore) and CA
# certificates, made with mmdebstrap (cached under $PYSHIP_CACHE keyed on its options), as an OCI
# layout: the base a backup agent image needs for PostgreSQL sources. Not a server.
# Exports PYSHIP_TEST_PGBASE=oci-layout:DIR:REF.
pgbase_opts() {
	echo "bookworm essential merged-usr postgresql-client-15,ca-certificates epoch=1700000000 v1"
}
pgbase_dir() {
	echo "$PYSHIP_CACHE/pgbase/$(pgbase_opts | sha256sum | cut -c1-16)"
}
svc_start() {
	local dir
	dir=$(pgbase_dir)
	debian_base_layout "$dir" postgresql-client-15,ca-certificates pgbase
	echo "export PYSHIP_TEST_PGBASE=oci-layout:$dir/layout:pgbase"
}
svc_stop() { :; }
svc_status() { [ -f "$(pgbase_dir)/layout/index.json" ]; }
