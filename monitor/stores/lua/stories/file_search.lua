-- Library (a prefix of the scripts that file stories under index keys): the search index's
-- part of a filing under one key, after its ``idx`` ZADD and before its trim. ``over``:
-- ``idx`` now holds more than its limit (it is about to be trimmed); ``entries``: the
-- filings {score, member, ...}. A key that never overflowed has every filing in ``idx`` and
-- no ``sx``; at its first trim ``sx`` starts as a copy of ``idx`` (every filing so far, this
-- one included), and from then on gets every filing too. Trimmed to the stories updated
-- from ``cutoff`` on when one is added.
local function file_search(index_key, search_key, over, entries, ttl, cutoff)
  local found = 0
  if redis.call('EXISTS', search_key) == 1 then
    for i = 1, #entries, 1000 do
      found = found + redis.call('ZADD', search_key, unpack(entries, i, math.min(i + 999, #entries)))
    end
  elseif over then
    redis.call('ZUNIONSTORE', search_key, 1, index_key)
    found = 1
  else
    return
  end
  if found > 0 then redis.call('ZREMRANGEBYSCORE', search_key, '-inf', cutoff) end
  redis.call('EXPIRE', search_key, ttl)
end
