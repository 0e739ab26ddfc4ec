-- KEYS: n, lines and ids of each outlet of the call.  ARGV: max_lines, decay_every, ttl,
-- remembered_ids, then per article: its outlet's number (1 for the first three KEYS, ...),
-- its id ('' for none), its key count, its keys.
-- Returns per article {n, count1, count2, ...}, both as counted before its decay (if any);
-- an article whose id was counted before is answered from the counts as they are.
-- An outlet's count, hash size and last id rank are read once and kept here between its
-- articles, and its expiries set once at the end: the articles of one call share the
-- script's clock.
local max_lines = tonumber(ARGV[1])
local decay_every = tonumber(ARGV[2])
local ttl = ARGV[3]
local remembered = tonumber(ARGV[4])
local call = redis.call
local articles, sizes, ranks = {}, {}, {}
local replies = {}
local i = 5
while i <= #ARGV do
  local outlet = tonumber(ARGV[i])
  local article = ARGV[i + 1]
  local last = i + 2 + tonumber(ARGV[i + 2])
  local lines = KEYS[3 * outlet - 1]
  local ids = KEYS[3 * outlet]
  local n = articles[outlet]
  if not n then
    n = tonumber(call('GET', KEYS[3 * outlet - 2]) or '0')
    sizes[outlet] = call('HLEN', lines)
    local newest = call('ZRANGE', ids, -1, -1, 'WITHSCORES')
    ranks[outlet] = tonumber(newest[2] or '0')
  end
  local size = sizes[outlet]
  local out
  if article ~= '' and call('ZSCORE', ids, article) then
    out = {n}
    for j = i + 3, last do
      out[#out + 1] = tonumber(call('HGET', lines, ARGV[j]) or '0')
    end
  else
    if article ~= '' then
      ranks[outlet] = ranks[outlet] + 1
      call('ZADD', ids, ranks[outlet], article)
    end
    n = n + 1
    out = {n}
    for j = i + 3, last do
      local count
      if size < max_lines or call('HEXISTS', lines, ARGV[j]) == 1 then
        count = call('HINCRBY', lines, ARGV[j], 1)
        if count == 1 then size = size + 1 end
      else
        count = 0
      end
      out[#out + 1] = count
    end
    if decay_every > 0 and n >= 2 * decay_every then
      n = math.floor(n / 2)
      local all = call('HGETALL', lines)
      for j = 1, #all, 2 do
        local halved = math.floor(tonumber(all[j + 1]) / 2)
        if halved == 0 then
          call('HDEL', lines, all[j])
        else
          call('HSET', lines, all[j], string.format('%d', halved))
        end
      end
      size = call('HLEN', lines)
    end
  end
  articles[outlet] = n
  sizes[outlet] = size
  replies[#replies + 1] = out
  i = last + 1
end
for outlet, n in pairs(articles) do
  call('SET', KEYS[3 * outlet - 2], string.format('%d', n))
  call('EXPIRE', KEYS[3 * outlet - 2], ttl)
  call('EXPIRE', KEYS[3 * outlet - 1], ttl)
  if call('ZCARD', KEYS[3 * outlet]) > 0 then
    call('ZREMRANGEBYRANK', KEYS[3 * outlet], 0, -(remembered + 1))
    call('EXPIRE', KEYS[3 * outlet], ttl)
  end
end
return replies
