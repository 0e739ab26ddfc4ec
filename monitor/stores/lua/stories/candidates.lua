-- KEYS: index keys. ARGV: prefix, min_time, per_key, limit.
-- Returns [id1, updated1, id2, updated2, ...] for the best `limit` stories by index hits
-- (updated: the latest score seen, which is the story's last update).
local prefix, min_time = ARGV[1], ARGV[2]
local per_key, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local hits, latest, exact, order = {}, {}, {}, {}
for _, key in ipairs(KEYS) do
  local filed = redis.call('ZREVRANGEBYSCORE', key, '+inf', min_time, 'WITHSCORES', 'LIMIT', 0, per_key)
  for i = 1, #filed, 2 do
    local sid, when = filed[i], tonumber(filed[i + 1])
    if hits[sid] == nil then
      hits[sid] = 0
      latest[sid] = when
      exact[sid] = filed[i + 1]
      order[#order + 1] = sid
    end
    hits[sid] = hits[sid] + 1
    if when > latest[sid] then
      latest[sid] = when
      exact[sid] = filed[i + 1]
    end
  end
end
table.sort(order, function(a, b)
  if hits[a] ~= hits[b] then return hits[a] > hits[b] end
  if latest[a] ~= latest[b] then return latest[a] > latest[b] end
  return a < b
end)
local reply = {}
for i = 1, math.min(limit, #order) do
  reply[#reply + 1] = order[i]
  reply[#reply + 1] = exact[order[i]]  -- as Redis wrote it: tostring would round
end
return reply
