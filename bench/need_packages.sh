# need_packages.sh - sourced by the bench scripts (peers.sh, targets.sh):
# need_packages PKG... installs, with apt-get (as root, or through sudo),
# those of the Debian packages PKG that are not installed yet; it logs what
# it installs through the script's own log function. Waits up to 10 minutes
# for another apt-get's lock.
need_packages() {
  local p missing=() sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  log "installing ${missing[*]}"
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
}
