-- Needs stories/file_search.lua before it.
-- KEYS: index keys, then (with a cutoff) their search index keys. ARGV: story id, its last
-- update, stories kept per key, TTL in seconds, cutoff ('': no search index).
-- One command instead of three per key: packing ~75 commands per save dominated its cost.
local sid, updated = ARGV[1], ARGV[2]
local keep, ttl, cutoff = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local count = cutoff == '' and #KEYS or #KEYS / 2
for i = 1, count do
  local key = KEYS[i]
  redis.call('ZADD', key, updated, sid)
  if cutoff ~= '' then
    file_search(key, KEYS[count + i], redis.call('ZCARD', key) > keep, {updated, sid}, ttl, cutoff)
  end
  redis.call('ZREMRANGEBYRANK', key, 0, -keep - 1)
  redis.call('EXPIRE', key, ttl)
end
return count
