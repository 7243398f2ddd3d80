-- ptcap.lua: a Wireshark post-dissector that turns the process and container comments that
-- ptcap (and ptcpdump) write into every packet into typed, filterable fields:
--   ptcap.pid, ptcap.tid, ptcap.thread.name, ptcap.comm, ptcap.exe, ptcap.args, ptcap.uid, ptcap.gid,
--   ptcap.ppid, ptcap.parent.exe, ptcap.parent.args,
--   ptcap.container.id, ptcap.container.name, ptcap.container.image,
--   ptcap.pod.name, ptcap.pod.namespace, ptcap.pod.uid,
--   ptcap.drop.reason, ptcap.drop.location (ptcap --drops),
--   ptcap.nat.original, ptcap.nat.translated ("A.p > B.q"), and the original tuple's
--   ptcap.nat.src, ptcap.nat.sport, ptcap.nat.dst, ptcap.nat.dport (a NATed connection's packet)
-- Install: copy to ~/.local/lib/wireshark/plugins/ (Wireshark >= 3.6), or run
--   tshark -X lua_script:ptcap.lua -r capture.pcapng -Y 'ptcap.pid == 1234'
-- Comment layout (one comment per group, "Key: value" lines; values escape control characters
-- and backslash as \xNN and \\):
--   PID/Cmd/Args, ThreadId/ThreadName, UserId/GroupId, ParentPID/ParentCmd/ParentArgs,
--   ContainerName/ContainerId/ContainerImage/ContainerLabels, PodName/PodNamespace/PodUID/...
-- ptcpdump's older keys TID, Command and ParentCommand are read too. ThreadName is the name of
-- the thread that sent or received (ptcap.thread.name); ptcap.comm is the executable's base
-- name, as ptcpdump prints the process (its comments carry no process name).

local ptcap = Proto("ptcap", "ptcap process and container context")

local F = {
    pid = ProtoField.uint32("ptcap.pid", "PID", base.DEC),
    tid = ProtoField.uint32("ptcap.tid", "Thread ID", base.DEC),
    thread_name = ProtoField.string("ptcap.thread.name", "Thread name"),
    comm = ProtoField.string("ptcap.comm", "Command name"),
    exe = ProtoField.string("ptcap.exe", "Executable"),
    args = ProtoField.string("ptcap.args", "Arguments"),
    uid = ProtoField.uint32("ptcap.uid", "User ID", base.DEC),
    gid = ProtoField.uint32("ptcap.gid", "Group ID", base.DEC),
    ppid = ProtoField.uint32("ptcap.ppid", "Parent PID", base.DEC),
    parent_exe = ProtoField.string("ptcap.parent.exe", "Parent executable"),
    parent_args = ProtoField.string("ptcap.parent.args", "Parent arguments"),
    container_id = ProtoField.string("ptcap.container.id", "Container ID"),
    container_name = ProtoField.string("ptcap.container.name", "Container name"),
    container_image = ProtoField.string("ptcap.container.image", "Container image"),
    pod_name = ProtoField.string("ptcap.pod.name", "Pod name"),
    pod_namespace = ProtoField.string("ptcap.pod.namespace", "Pod namespace"),
    pod_uid = ProtoField.string("ptcap.pod.uid", "Pod UID"),
    drop_reason = ProtoField.string("ptcap.drop.reason", "Dropped by the kernel: reason"),
    drop_location = ProtoField.string("ptcap.drop.location", "Dropped by the kernel: location"),
    nat_original = ProtoField.string("ptcap.nat.original", "NAT: original tuple"),
    nat_translated = ProtoField.string("ptcap.nat.translated", "NAT: translated tuple"),
    nat_src = ProtoField.string("ptcap.nat.src", "NAT: original source address"),
    nat_sport = ProtoField.uint16("ptcap.nat.sport", "NAT: original source port", base.DEC),
    nat_dst = ProtoField.string("ptcap.nat.dst", "NAT: original destination address"),
    nat_dport = ProtoField.uint16("ptcap.nat.dport", "NAT: original destination port", base.DEC),
}
ptcap.fields = {
    F.pid, F.tid, F.thread_name, F.comm, F.exe, F.args, F.uid, F.gid, F.ppid, F.parent_exe, F.parent_args,
    F.container_id, F.container_name, F.container_image, F.pod_name, F.pod_namespace, F.pod_uid,
    F.drop_reason, F.drop_location,
    F.nat_original, F.nat_translated, F.nat_src, F.nat_sport, F.nat_dst, F.nat_dport,
}

local frame_comment = Field.new("frame.comment")

-- Comment key -> field and kind ("u" = number, "s" = string).
local KEYS = {
    PID = { F.pid, "u" },
    ThreadId = { F.tid, "u" },
    TID = { F.tid, "u" },
    ThreadName = { F.thread_name, "s" },
    Cmd = { F.exe, "s" },
    Command = { F.exe, "s" },
    Args = { F.args, "s" },
    UserId = { F.uid, "u" },
    GroupId = { F.gid, "u" },
    ParentPID = { F.ppid, "u" },
    ParentCmd = { F.parent_exe, "s" },
    ParentCommand = { F.parent_exe, "s" },
    ParentArgs = { F.parent_args, "s" },
    ContainerId = { F.container_id, "s" },
    ContainerName = { F.container_name, "s" },
    ContainerImage = { F.container_image, "s" },
    PodName = { F.pod_name, "s" },
    PodNamespace = { F.pod_namespace, "s" },
    PodUID = { F.pod_uid, "s" },
    -- `Drop: REASON (LOCATION)` (ptcap --drops): split below.
    Drop = { F.drop_reason, "d" },
    -- `NAT: original A.p > B.q, translated C.r > D.s`: split below.
    NAT = { F.nat_original, "n" },
}

local function unescape(v)
    v = v:gsub("\\x(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
    return (v:gsub("\\\\", "\\"))
end

function ptcap.dissector(tvb, pinfo, tree)
    local comments = { frame_comment() }
    if #comments == 0 then
        return
    end
    local values = {}
    for _, c in ipairs(comments) do
        for line in tostring(c.value):gmatch("[^\n]+") do
            local key, value = line:match("^(%w+): ?(.*)$")
            if key and KEYS[key] and values[key] == nil then
                values[key] = value
            end
        end
    end
    if next(values) == nil then
        return
    end
    local subtree = tree:add(ptcap, "ptcap context")
    for _, key in ipairs({ "PID", "ThreadId", "TID", "ThreadName", "Cmd", "Command", "Args",
        "UserId", "GroupId", "ParentPID", "ParentCmd", "ParentCommand", "ParentArgs",
        "ContainerId", "ContainerName", "ContainerImage", "PodName", "PodNamespace", "PodUID",
        "Drop", "NAT" }) do
        local v = values[key]
        if v ~= nil and v ~= "" then
            local field, kind = KEYS[key][1], KEYS[key][2]
            if kind == "u" then
                local n = tonumber(v)
                if n then subtree:add(field, n) end
            elseif kind == "d" then
                local reason, location = v:match("^(.-) %((.*)%)$")
                subtree:add(F.drop_reason, unescape(reason or v))
                if location then subtree:add(F.drop_location, unescape(location)) end
            elseif kind == "n" then
                local orig, trans = v:match("^original (.-), translated (.*)$")
                if orig then
                    subtree:add(F.nat_original, orig)
                    subtree:add(F.nat_translated, trans)
                    -- "ADDR.PORT > ADDR.PORT"; the port follows the address's last dot.
                    local src, sport, dst, dport = orig:match("^(.*)%.(%d+) > (.*)%.(%d+)$")
                    if src then
                        subtree:add(F.nat_src, src)
                        subtree:add(F.nat_sport, tonumber(sport))
                        subtree:add(F.nat_dst, dst)
                        subtree:add(F.nat_dport, tonumber(dport))
                    end
                end
            else
                subtree:add(field, unescape(v))
            end
        end
    end
    -- The command name is the executable's basename.
    local exe = values.Cmd or values.Command
    if exe and exe ~= "" then
        subtree:add(F.comm, (unescape(exe):match("([^/]+)$")))
    end
end

register_postdissector(ptcap)
