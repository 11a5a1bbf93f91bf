-- wrk script: SaveAnnotation POSTs through the gateway. Each request takes the next
-- (token, instance) pair of the file named by BENCH_SAVE_DATA, whose lines are
--   token <TAB> bearer token of one radiologist
--   instance <TAB> datasets/{d}/instances/{i}
-- plus one "target <TAB> useCases/{u} <TAB> datasets/{d}" line. The gateway fills the
-- annotator from the token, so every pair is its own annotation row: the first pass
-- inserts rows, later passes update them.
local thread_count = 0

function setup(thread)
  thread:set("offset", thread_count * 7919)
  thread_count = thread_count + 1
end

local tokens, instances = {}, {}
local use_case, dataset
local counter = 0
local labels = { "A", "B", "C", "D" }

function init(args)
  counter = offset or 0
  local file = assert(io.open(os.getenv("BENCH_SAVE_DATA"), "r"),
    "BENCH_SAVE_DATA must name the file of tokens and instances")
  for line in file:lines() do
    local kind, first, second = line:match("^(%w+)\t([^\t]+)\t?(.*)$")
    if kind == "token" then
      tokens[#tokens + 1] = first
    elseif kind == "instance" then
      instances[#instances + 1] = first
    elseif kind == "target" then
      use_case, dataset = first, second
    end
  end
  file:close()
  assert(#tokens > 0 and #instances > 0 and use_case and dataset,
    "BENCH_SAVE_DATA needs token, instance and target lines")
end

function request()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  local instance = instances[(math.floor(counter / #tokens) % #instances) + 1]
  local label = labels[(counter % #labels) + 1]
  local body = string.format('{"useCase":"%s","dataset":"%s","instance":"%s","label":"%s"}',
    use_case, dataset, instance, label)
  return wrk.format("POST", "/api/ailab.annotation.v1.AnnotationService/SaveAnnotation", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end
