-- ARGV: the keyspace, a story id, the merge links followed at most (a longer chain would be
-- a cycle). Returns the story it now is (merged links followed).
local prefix, sid = ARGV[1], ARGV[2]
for _ = 1, tonumber(ARGV[3]) do
  local merged_into = redis.call('GET', prefix .. 'merged:' .. sid)
  if not merged_into then return sid end
  sid = merged_into
end
return sid
