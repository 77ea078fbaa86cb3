#!/bin/sh
# rpm's own comparison in one rpm process. Input "a<TAB>b" lines on stdin.
# Output "raw<TAB>evr": rpm.vercmp(a, b) (rpmvercmp on the raw strings) and the
# EVR comparison of rpm.ver(a) with rpm.ver(b) (epoch, version, release);
# E where rpm rejects the input.
f=$(mktemp)
trap 'rm -f "$f"' EXIT
cat > "$f"
rpm --eval "%{lua:
local function sgn(x) if x < 0 then return -1 elseif x > 0 then return 1 else return 0 end end
for line in io.lines('$f') do
  local a, b = line:match('^(.-)\t(.*)$')
  local raw = 'E'
  local ok, r = pcall(rpm.vercmp, a, b)
  if ok then raw = sgn(r) end
  local evr = 'E'
  local oka, va = pcall(rpm.ver, a)
  local okb, vb = pcall(rpm.ver, b)
  if oka and okb and va and vb then
    evr = 0
    if va < vb then evr = -1 elseif vb < va then evr = 1 end
  end
  print(raw .. '\t' .. evr .. '\n')
end
}"
