// leakscope page helper. Evaluated as `(<this>)(op, arg)`: stateless, so a
// page cannot tamper with it between calls. Returns plain JSON-able values.
// Input is dispatched as the events a person's typing and clicking fire
// (focus, keydown, input, keyup, change, blur, click), because tags listen to
// exactly those.
(function (op, arg) {
  "use strict";
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  const visible = (el) => {
    if (!el || !el.isConnected) return false;
    const st = getComputedStyle(el);
    if (st.visibility === "hidden" || st.display === "none") return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const byIds = (ids) =>
    norm(
      (ids || "")
        .split(/\s+/)
        .map((id) => {
          const e = id && document.getElementById(id);
          return e ? e.textContent : "";
        })
        .join(" ")
    );
  const labelOf = (el) => {
    if (el.labels && el.labels.length)
      return norm(Array.from(el.labels).map((l) => l.textContent).join(" "));
    const wrap = el.closest && el.closest("label");
    return wrap ? norm(wrap.textContent) : "";
  };
  // Accessible name, simplified from the accname algorithm: labelledby,
  // aria-label, <label>, value of buttons, alt, text, title, placeholder.
  const accName = (el) => {
    const lb = el.getAttribute("aria-labelledby");
    if (lb) {
      const t = byIds(lb);
      if (t) return t;
    }
    const al = norm(el.getAttribute("aria-label"));
    if (al) return al;
    const tag = el.tagName.toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") {
      const type = (el.getAttribute("type") || "").toLowerCase();
      if (["submit", "button", "reset"].includes(type)) return norm(el.value) || type;
      if (type === "image") return norm(el.getAttribute("alt"));
      const l = labelOf(el);
      if (l) return l;
      return norm(el.getAttribute("title")) || norm(el.getAttribute("placeholder"));
    }
    const text = norm(el.innerText || el.textContent);
    if (text) return text;
    const img = el.querySelector && el.querySelector("img[alt]");
    if (img) return norm(img.getAttribute("alt"));
    return norm(el.getAttribute("title"));
  };
  const clickables = () =>
    Array.from(
      document.querySelectorAll(
        "a[href], button, [role=button], [role=link], input[type=submit], input[type=button], input[type=image]"
      )
    ).filter(visible);
  const fire = (el, type, init) => {
    const Ctor = type.startsWith("key") ? KeyboardEvent : type === "focus" || type === "blur" ? FocusEvent : Event;
    el.dispatchEvent(new Ctor(type, Object.assign({ bubbles: type !== "focus" && type !== "blur", cancelable: true }, init || {})));
  };
  // Sets a value the way typing does, through the native setter so
  // framework-controlled inputs (React, Vue) see it.
  const typeInto = (el, value) => {
    el.scrollIntoView({ block: "center" });
    el.focus();
    fire(el, "focus");
    const tag = el.tagName.toLowerCase();
    const proto = tag === "textarea" ? HTMLTextAreaElement.prototype : tag === "select" ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
    const setter = Object.getOwnPropertyDescriptor(proto, "value").set;
    if (tag === "select") {
      const opt = Array.from(el.options).find((o) => norm(o.text).toLowerCase() === value.toLowerCase() || o.value === value);
      setter.call(el, opt ? opt.value : value);
      fire(el, "input");
    } else if (["date", "checkbox", "radio", "number", "range", "color"].includes(el.type)) {
      setter.call(el, value);
      fire(el, "input");
    } else {
      setter.call(el, "");
      let cur = "";
      for (const ch of value) {
        fire(el, "keydown", { key: ch });
        cur += ch;
        setter.call(el, cur);
        el.dispatchEvent(new InputEvent("input", { bubbles: true, data: ch, inputType: "insertText" }));
        fire(el, "keyup", { key: ch });
      }
    }
    fire(el, "change");
    el.blur();
    fire(el, "blur");
  };
  const press = (el) => {
    el.scrollIntoView({ block: "center" });
    for (const t of ["pointerdown", "mousedown", "pointerup", "mouseup"]) fire(el, t);
    el.click();
  };
  const describe = (el) => {
    const tag = el.tagName.toLowerCase();
    return tag + (el.id ? "#" + el.id : "") + (el.getAttribute("name") ? "[name=" + el.getAttribute("name") + "]" : "");
  };
  // What a form field wants, from its type, autocomplete, name, id, label.
  const fieldKind = (el) => {
    const type = (el.getAttribute("type") || "").toLowerCase();
    const ac = (el.getAttribute("autocomplete") || "").toLowerCase();
    const hint = [ac, el.name, el.id, labelOf(el), el.getAttribute("placeholder"), el.getAttribute("aria-label")]
      .join(" ")
      .toLowerCase();
    if (["hidden", "submit", "button", "reset", "image", "file", "password", "checkbox", "radio"].includes(type)) return null;
    if (type === "email" || /e-?mail/.test(hint)) return "email";
    if (type === "tel" || /phone|mobile|\btel\b|cell/.test(hint)) return "phone";
    if (type === "search" || /search|\bq\b|query|keyword/.test(hint)) return "search";
    if (type === "date" || /birth|\bdob\b|bday/.test(hint)) return "dob";
    if (/given|first.?name|fname/.test(hint)) return "first_name";
    if (/family|last.?name|surname|lname/.test(hint)) return "last_name";
    if (/name/.test(hint) && !/user.?name|company|drug|medic|product/.test(hint)) return "name";
    if (/zip|postal|postcode/.test(hint)) return "zip";
    if (/city|town/.test(hint)) return "city";
    if (/address|street/.test(hint)) return "street";
    if (el.tagName.toLowerCase() === "textarea" || /symptom|message|comment|reason|note|describe/.test(hint)) return "symptom";
    return null;
  };

  switch (op) {
    case "info":
      return { url: location.href, title: document.title };
    case "scroll": {
      // Bounded: at most arg.steps screens, to trigger lazy and scroll-depth tags.
      const steps = arg && arg.steps ? arg.steps : 4;
      for (let i = 1; i <= steps; i++) window.scrollTo(0, (document.body ? document.body.scrollHeight : 0) * (i / steps));
      return window.scrollY;
    }
    case "links":
      return Array.from(document.querySelectorAll("a[href]"))
        .filter(visible)
        .map((a) => ({ href: a.href, text: accName(a).slice(0, 200) }))
        .filter((l) => /^https?:/.test(l.href))
        .slice(0, 500);
    case "actions": {
      // Clickables whose accessible name matches one of the patterns.
      const re = new RegExp(arg.pattern, "i");
      const seen = new Set();
      const out = [];
      for (const el of clickables()) {
        const name = accName(el);
        if (!name || name.length > 80 || !re.test(name) || seen.has(name.toLowerCase())) continue;
        seen.add(name.toLowerCase());
        out.push({ name, tag: el.tagName.toLowerCase(), href: el.href || null });
      }
      return out.slice(0, arg.max || 10);
    }
    case "click": {
      const want = norm(arg.name).toLowerCase();
      const all = clickables();
      const el =
        all.find((e) => accName(e).toLowerCase() === want) ||
        all.find((e) => accName(e).toLowerCase().includes(want));
      if (!el) return { ok: false, error: "no button or link named " + JSON.stringify(arg.name) };
      const name = accName(el);
      // Without --submit-forms a submit control is still clicked (trackers see
      // the click and read the form) but the submission itself is swallowed.
      const form = el.form || (el.closest && el.closest("form"));
      const submits = !!form && (el.type === "submit" || el.type === "image" || (el.tagName === "BUTTON" && !el.getAttribute("type")));
      let blocked = false;
      if (arg.block_submit && submits) {
        const stop = (e) => {
          e.preventDefault();
          e.stopImmediatePropagation();
        };
        window.addEventListener("submit", stop, true);
        setTimeout(() => window.removeEventListener("submit", stop, true), 3000);
        blocked = true;
      }
      press(el);
      return { ok: true, name, element: describe(el), blocked_submit: blocked };
    }
    case "search": {
      const cands = Array.from(
        document.querySelectorAll(
          "input[type=search], [role=search] input, form[role=search] input, input[name=q], input[name=s], input[name=search], input[name=query], input[name=keyword], input[name=term], input[placeholder*=earch i], input[aria-label*=earch i]"
        )
      ).filter((e) => visible(e) && !["hidden", "submit", "button"].includes(e.type));
      const el = cands[0];
      if (!el) return { ok: false, error: "no search box on the page" };
      typeInto(el, arg.term);
      el.focus();
      fire(el, "keydown", { key: "Enter", code: "Enter", keyCode: 13, which: 13 });
      fire(el, "keypress", { key: "Enter", code: "Enter", keyCode: 13, which: 13 });
      const form = el.form;
      if (form) {
        if (form.requestSubmit) form.requestSubmit();
        else form.submit();
      }
      return { ok: true, element: describe(el), submitted: !!form };
    }
    case "fill": {
      // arg.persona: values; arg.submit: submit each filled form.
      const p = arg.persona;
      const filled = [];
      const forms = new Set();
      for (const el of Array.from(document.querySelectorAll("input, textarea, select"))) {
        if (!visible(el) || el.disabled || el.readOnly) continue;
        const kind = fieldKind(el);
        if (!kind || kind === "search" || !(kind in p)) continue;
        typeInto(el, p[kind]);
        filled.push(describe(el) + "=" + kind);
        if (el.form) forms.add(el.form);
      }
      let submitted = 0;
      if (arg.submit) {
        for (const f of forms) {
          if (f.requestSubmit) f.requestSubmit();
          else f.submit();
          submitted++;
        }
      }
      return { ok: filled.length > 0, filled, forms: forms.size, submitted };
    }
    case "fill-probe": {
      let n = 0;
      for (const el of Array.from(document.querySelectorAll("input, textarea, select"))) {
        if (!visible(el) || el.disabled || el.readOnly) continue;
        const kind = fieldKind(el);
        if (kind && kind !== "search") n++;
      }
      return n;
    }
    case "fill-fields": {
      // Journey `fill`: arg.fields = [{selector|label, value}].
      const done = [];
      for (const f of arg.fields) {
        let el = null;
        if (f.selector) {
          try {
            el = document.querySelector(f.selector);
          } catch (e) {
            return { ok: false, error: "bad CSS selector " + JSON.stringify(f.selector) + ": " + e.message };
          }
        } else {
          const want = norm(f.label).toLowerCase();
          const fields = Array.from(document.querySelectorAll("input, textarea, select")).filter(visible);
          el = fields.find((e) => accName(e).toLowerCase() === want) || fields.find((e) => accName(e).toLowerCase().includes(want));
        }
        if (!el) return { ok: false, error: "no field " + JSON.stringify(f.selector || f.label), done };
        typeInto(el, f.value);
        done.push(describe(el));
      }
      return { ok: true, done };
    }
    default:
      return { ok: false, error: "unknown op " + op };
  }
})
