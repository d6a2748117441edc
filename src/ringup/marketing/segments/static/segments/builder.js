/* The segment condition builder of the back office: rows of field / operator / value in
   "All of" (AND) and "Any of" (OR) groups, each negatable. It edits the conditions JSON
   in the form's textarea and asks the preview API for the live count as it changes. */
(function () {
  "use strict";

  var specNode = document.getElementById("segment-builder-spec");
  var mount = document.getElementById("segment-builder");
  var textarea = document.getElementById("id_conditions");
  if (!specNode || !mount || !textarea) return;
  var spec = JSON.parse(specNode.textContent);
  var live = document.getElementById("segment-live");
  var errorList = document.getElementById("segment-live-errors");
  var timer = null;
  var root;

  var DEFAULTS = {
    choices: function () { return []; },
    plans: function () { return []; },
    options: function () { return []; },
    words: function () { return []; },
    days: function () { return 30; },
    count: function () { return 3; },
    days_or_never: function () { return 30; },
    flag: function () { return true; },
    revenue: function () { return { months: 12, amount: "10000.00" }; },
    usage: function () { return { days: 30, minutes: 100 }; },
    probability: function () { return "0.30"; },
    amount: function () { return "10000.00"; }
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key.indexOf("on") === 0) node.addEventListener(key.slice(2), attrs[key]);
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function newLeaf(field) {
    var meta = spec.fields[field];
    return { type: "leaf", negated: false, field: field, op: meta.ops[0], value: DEFAULTS[meta.kind]() };
  }

  function fromJson(node) {
    var negated = false;
    while (node && typeof node === "object" && Object.keys(node).length === 1 && "not" in node) {
      negated = !negated;
      node = node.not;
    }
    if (node && Array.isArray(node.all)) return { type: "group", mode: "all", negated: negated, children: node.all.map(fromJson) };
    if (node && Array.isArray(node.any)) return { type: "group", mode: "any", negated: negated, children: node.any.map(fromJson) };
    node = node || {};
    var leaf = { type: "leaf", negated: negated, field: node.field, op: node.op, value: node.value };
    var meta = spec.fields[leaf.field];
    if (meta && meta.kind === "options" && typeof leaf.value === "string") {
      leaf.op = "in";
      leaf.value = [leaf.value];
    }
    return leaf;
  }

  function toJson(item) {
    var out = item.type === "group"
      ? (item.mode === "all" ? { all: item.children.map(toJson) } : { any: item.children.map(toJson) })
      : { field: item.field, op: item.op, value: item.value };
    return item.negated ? { not: out } : out;
  }

  function changed() {
    textarea.value = JSON.stringify(toJson(root), null, 2);
    render();
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  }

  function notBox(item) {
    var box = el("input", { type: "checkbox", title: "Exclude: NOT", onchange: function () { item.negated = box.checked; changed(); } });
    box.checked = !!item.negated;
    return el("label", { class: "segment-not" }, [box, document.createTextNode(" not")]);
  }

  function numberInput(value, onValue, attrs) {
    var input = el("input", Object.assign({ type: "number", min: "0", value: value === null || value === undefined ? "" : value }, attrs || {}));
    input.addEventListener("change", function () { onValue(input.value === "" ? null : Number(input.value)); });
    return input;
  }

  function checkboxes(item, choices) {
    var selected = Array.isArray(item.value) ? item.value : [];
    return el("span", { class: "segment-choices" }, choices.map(function (choice) {
      var box = el("input", { type: "checkbox", value: choice });
      box.checked = selected.indexOf(choice) >= 0;
      box.addEventListener("change", function () {
        var now = Array.isArray(item.value) ? item.value.slice() : [];
        if (box.checked) now.push(choice); else now = now.filter(function (c) { return c !== choice; });
        item.value = now;
        changed();
      });
      return el("label", {}, [box, document.createTextNode(" " + choice)]);
    }));
  }

  function valueInput(item, meta) {
    var kind = meta.kind;
    if (kind === "choices" || kind === "plans" || kind === "options") return checkboxes(item, meta.choices);
    if (kind === "words") {
      var words = el("input", { type: "text", placeholder: "comma-separated, e.g. RU, KZ", value: (item.value || []).join(", ") });
      words.addEventListener("change", function () {
        item.value = words.value.split(",").map(function (w) { return w.trim(); }).filter(Boolean);
        changed();
      });
      return words;
    }
    if (kind === "flag") {
      var flag = el("select", { onchange: function () { item.value = flag.value === "true"; changed(); } }, [
        el("option", { value: "true", text: "yes" }), el("option", { value: "false", text: "no" })
      ]);
      flag.value = item.value === false ? "false" : "true";
      return flag;
    }
    if (kind === "days") {
      return el("span", {}, [numberInput(item.value, function (v) { item.value = v; changed(); }), document.createTextNode(" days")]);
    }
    if (kind === "count") {
      return numberInput(item.value, function (v) { item.value = v; changed(); });
    }
    if (kind === "days_or_never") {
      var never = el("input", { type: "checkbox" });
      never.checked = item.value === null;
      never.addEventListener("change", function () { item.value = never.checked ? null : 30; changed(); });
      var parts = [];
      if (item.value !== null) parts.push(numberInput(item.value, function (v) { item.value = v; changed(); }), document.createTextNode(" days ago "));
      parts.push(el("label", {}, [never, document.createTextNode(" never")]));
      return el("span", {}, parts);
    }
    if (kind === "probability" || kind === "amount") {
      var figure = el("input", { type: "text", inputmode: "decimal", size: "10", value: item.value === undefined ? "" : String(item.value), "aria-label": kind });
      figure.addEventListener("change", function () { item.value = figure.value.trim(); changed(); });
      return el("span", {}, [figure, document.createTextNode(kind === "probability" ? " (0–1)" : "")]);
    }
    var value = item.value && typeof item.value === "object" ? item.value : DEFAULTS[kind]();
    if (kind === "revenue") {
      var amount = el("input", { type: "text", inputmode: "decimal", size: "10", value: value.amount, "aria-label": "amount" });
      amount.addEventListener("change", function () { item.value = { months: value.months, amount: amount.value.trim() }; changed(); });
      return el("span", {}, [amount, document.createTextNode(" in the last "),
        numberInput(value.months, function (v) { item.value = { months: v, amount: value.amount }; changed(); }, { min: "1", "aria-label": "months" }),
        document.createTextNode(" months")]);
    }
    return el("span", {}, [
      numberInput(value.minutes, function (v) { item.value = { days: value.days, minutes: v }; changed(); }, { "aria-label": "minutes" }),
      document.createTextNode(" minutes in the last "),
      numberInput(value.days, function (v) { item.value = { days: v, minutes: value.minutes }; changed(); }, { min: "1", "aria-label": "days" }),
      document.createTextNode(" days")]);
  }

  function fieldSelect(item) {
    var select = el("select", { class: "segment-field", onchange: function () {
      var fresh = newLeaf(select.value);
      item.field = fresh.field; item.op = fresh.op; item.value = fresh.value;
      changed();
    } }, Object.keys(spec.fields).map(function (name) {
      return el("option", { value: name, text: spec.fields[name].label });
    }));
    if (!spec.fields[item.field]) select.appendChild(el("option", { value: item.field || "", text: String(item.field) }));
    select.value = item.field || "";
    return select;
  }

  function opSelect(item, meta) {
    var ops = meta.kind === "options" ? ["in"] : meta.ops;
    var select = el("select", { class: "segment-op", onchange: function () { item.op = select.value; changed(); } },
      ops.map(function (op) { return el("option", { value: op, text: spec.ops[op] || op }); }));
    select.value = item.op;
    return select;
  }

  function removeButton(parent, item) {
    return el("button", { type: "button", class: "button segment-remove", title: "Remove", text: "✕", onclick: function () {
      parent.children.splice(parent.children.indexOf(item), 1);
      changed();
    } });
  }

  function path(base, item) { return item.negated ? base + ".not" : base; }

  function renderLeaf(item, parent, at) {
    var meta = spec.fields[item.field];
    var parts = [notBox(item), fieldSelect(item)];
    if (meta) parts.push(opSelect(item, meta), valueInput(item, meta));
    parts.push(removeButton(parent, item));
    return el("div", { class: "segment-row", "data-path": path(at, item) }, parts);
  }

  function renderGroup(group, parent, at) {
    var here = path(at, group);
    var mode = el("select", { class: "segment-mode", onchange: function () { group.mode = mode.value; changed(); } }, [
      el("option", { value: "all", text: "All of (AND)" }), el("option", { value: "any", text: "Any of (OR)" })
    ]);
    mode.value = group.mode;
    var head = [notBox(group), mode,
      el("button", { type: "button", class: "button segment-add", text: "+ condition", onclick: function () { group.children.push(newLeaf("tier")); changed(); } }),
      el("button", { type: "button", class: "button segment-add-group", text: "+ group", onclick: function () {
        group.children.push({ type: "group", mode: group.mode === "all" ? "any" : "all", negated: false, children: [newLeaf("tier")] });
        changed();
      } })];
    if (parent) head.push(removeButton(parent, group));
    var children = group.children.map(function (child, index) {
      var at2 = here + "." + group.mode + "." + index;
      return child.type === "group" ? renderGroup(child, group, at2) : renderLeaf(child, group, at2);
    });
    if (!children.length) children.push(el("p", { class: "help", text: group.mode === "all" ? "No conditions: every customer." : "No conditions: no customer." }));
    return el("div", { class: "segment-group" + (group.negated ? " negated" : ""), "data-path": here },
      [el("div", { class: "segment-row" }, head)].concat(children));
  }

  function render() {
    mount.replaceChildren(renderGroup(root, null, "conditions"));
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function showErrors(detail) {
    errorList.replaceChildren();
    mount.querySelectorAll(".segment-row-error").forEach(function (n) { n.classList.remove("segment-row-error"); });
    detail.forEach(function (error) {
      var where = error.loc.slice(1).join(".");
      errorList.appendChild(el("li", { text: where + ": " + error.msg }));
      var best = null;
      mount.querySelectorAll("[data-path]").forEach(function (node) {
        var p = node.getAttribute("data-path");
        if ((where === p || where.indexOf(p + ".") === 0) && (!best || p.length > best.getAttribute("data-path").length)) best = node;
      });
      if (best) best.classList.add("segment-row-error");
    });
  }

  function preview() {
    var body = JSON.stringify({ conditions: toJson(root) });
    fetch(mount.getAttribute("data-preview-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      if (result.status === 200) {
        showErrors([]);
        live.textContent = result.data.count + (result.data.count === 1 ? " customer matches" : " customers match") + " now: " + result.data.in_words;
      } else if (result.status === 422) {
        live.textContent = "Not valid yet:";
        showErrors(result.data.detail);
      } else {
        live.textContent = "The count is not available (" + result.status + ").";
      }
    }).catch(function () { live.textContent = "The count is not available (no connection)."; });
  }

  function load() {
    var parsed;
    try { parsed = JSON.parse(textarea.value || "{\"all\": []}"); } catch (e) { return false; }
    root = fromJson(parsed);
    if (root.type !== "group") root = { type: "group", mode: "all", negated: false, children: [root] };
    return true;
  }

  // Editing the JSON by hand re-draws the builder when it parses.
  textarea.addEventListener("change", function () { if (load()) changed(); });
  if (!load()) root = { type: "group", mode: "all", negated: false, children: [] };
  render();
  preview();
})();
