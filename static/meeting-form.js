// The rubric versions (DOMAIN.md §11) as the server sends them in the page (data-rubrics): the bands are data, the
// same rows the server judges by; this rule only compares with them. Exposed for the test that holds the script's
// suggestion to the server's for every score of every version.
var chiboRubric = (function () {
  function suggest(bands, score) {
    return score >= bands.good ? 'good' : score >= bands.fair ? 'fair' : score >= bands.average ? 'average' : 'weak';
  }
  // versions oldest first; day as YYYY-MM-DD: the latest started on or before it, else the first
  function inForce(versions, day) {
    var found = null;
    versions.forEach(function (v) { if (v.from <= day) found = v; });
    return found || versions[0] || null;
  }
  return { suggest: suggest, inForce: inForce };
})();
window.chiboRubric = chiboRubric;

// Comfort only: the form works without it. Keeps the running count and the score total up to date, and shows the
// criteria of the rubric version in force on the date typed (the server does the same when the form is sent).
(function () {
  var form = document.getElementById('meeting-form');
  if (!form) return;
  var tally = document.getElementById('tally');
  var total = document.getElementById('score-total');
  var held = document.getElementById('held_on');
  var grid = document.getElementById('score-grid');
  var hint = document.getElementById('rubric-hint');
  var versions = [];
  try { versions = JSON.parse(form.dataset.rubrics || '[]'); } catch (e) { versions = []; }
  var current = null;
  versions.forEach(function (v) { if (v.code === form.dataset.rubric) current = v; });
  // the version the server chose for the date the page came with (a saved meeting keeps the one that judged it)
  var startDay = held ? held.value : '', startVersion = current;

  // another version's date: its criteria, keeping the points typed under the keys both have
  function followDate() {
    if (!held || !grid || !current || !held.value) return;
    var v = held.value === startDay ? startVersion : chiboRubric.inForce(versions, held.value);
    if (!v || v.code === current.code) return;
    var typed = {};
    grid.querySelectorAll('input[name^="score."]').forEach(function (i) { typed[i.name.slice(6)] = i.value; });
    grid.textContent = '';
    v.criteria.forEach(function (c) {
      var field = document.createElement('div');
      field.className = 'field';
      var label = document.createElement('label');
      label.htmlFor = 'score-' + c.key;
      label.appendChild(document.createTextNode(c.label + ' '));
      var small = document.createElement('small');
      small.textContent = '(' + form.dataset.tMaxPoints.replace('{}', c.max) + ')';
      label.appendChild(small);
      var input = document.createElement('input');
      input.id = 'score-' + c.key;
      input.name = 'score.' + c.key;
      input.type = 'number';
      input.inputMode = 'numeric';
      input.min = '0';
      input.max = String(c.max);
      input.dataset.max = String(c.max);
      if (typed[c.key] !== undefined) input.value = typed[c.key];
      field.appendChild(label);
      field.appendChild(input);
      grid.appendChild(field);
    });
    current = v;
    form.dataset.rubric = v.code;
    if (hint) hint.textContent = v.hint;
  }

  // HD 42's warnings (said, never refused), as the server words them (domain::rubric::warnings)
  var warnBox = document.getElementById('warnings');
  var warnList = document.getElementById('warning-list');
  function value(id) { var el = document.getElementById(id); return el ? el.value : ''; }
  function clock(t) { var p = /^(\d{1,2}):(\d{2})/.exec(t || ''); return p ? Number(p[1]) * 60 + Number(p[2]) : null; }
  function shown(day) { var p = day.split('-'); return p.length === 3 ? p[2] + '/' + p[1] + '/' + p[0] : day; }
  function dayBefore(day) {
    var t = Date.parse(day + 'T00:00:00Z');
    return isNaN(t) ? '' : new Date(t - 86400000).toISOString().slice(0, 10);
  }
  function warn() {
    if (!warnBox || !warnList || !current || !held || !held.value) return;
    var d = form.dataset, out = [];
    var kind = form.querySelector('input[name=kind]:checked');
    var combined = document.getElementById('combined_thematic');
    var start = clock(value('started_at')), end = clock(value('ended_at'));
    if (kind && kind.value === 'regular' && start !== null && end !== null && end > start) {
      var min = combined && combined.checked ? current.min_combined : current.min;
      if (end - start < min) out.push(d.tWarnShort.replace('{}', end - start).replace('{}', min));
    }
    if (current.notice) {
      var posted = value('materials_on');
      if (posted && posted > dayBefore(held.value)) out.push(d.tWarnLate.replace('{}', shown(posted)));
      if (!value('notice_on')) out.push(d.tWarnNotice);
    }
    warnList.textContent = '';
    out.forEach(function (text) {
      var li = document.createElement('li');
      li.textContent = text;
      warnList.appendChild(li);
    });
    warnBox.hidden = out.length === 0;
  }

  function update() {
    followDate();
    warn();
    var present = 0, expected = 0;
    form.querySelectorAll('.member').forEach(function (row) {
      var checked = row.querySelector('input[type=radio]:checked');
      if (!checked || checked.value !== 'exempt') expected++;
      if (checked && checked.value === 'present') present++;
    });
    if (tally) tally.textContent = present + '/' + expected + ' ' + form.dataset.tPresent;
    var inputs = form.querySelectorAll('input[name^="score."]');
    var sum = 0, filled = 0;
    inputs.forEach(function (i) { if (i.value !== '') { filled++; sum += Number(i.value) || 0; } });
    if (total) {
      if (filled === inputs.length && inputs.length > 0) {
        var d = form.dataset;
        var code = current ? chiboRubric.suggest(current.bands, sum) : '';
        var s = d['tRating' + code.charAt(0).toUpperCase() + code.slice(1)] || '';
        total.textContent = d.tTotal.replace('{}', sum).replace('{}', s);
      } else {
        total.textContent = '';
      }
    }
  }
  form.addEventListener('change', update);
  form.addEventListener('input', update);
  update();
  var summary = document.getElementById('error-summary');
  if (summary) summary.focus();
})();

// On a bad connection: the new-meeting form keeps a draft on the phone as it is filled, and a save that cannot
// reach the server is kept and sent again by itself when the network returns. The form's idempotency key goes with
// every try, so a save that did arrive (only its answer was lost) is never made twice.
(function () {
  var form = document.getElementById('meeting-form');
  var state = document.getElementById('send-state');
  if (!form || !state || !window.localStorage || !window.fetch) return;
  // (form.action would be the button named "action": read the attribute)
  var target = new URL(form.getAttribute('action'), location.href);
  if (!/\/cells\/[^/]+\/meetings$/.test(target.pathname)) return;
  var draftKey = 'chibo-draft:' + target.pathname;
  var outboxKey = 'chibo-outbox:' + target.pathname;
  var skip = { csrf: true, action: true };

  function show(kind, text) {
    state.hidden = false;
    state.className = 'send-state ' + kind;
    state.textContent = text;
  }

  function saveDraft() {
    var fields = [];
    new FormData(form).forEach(function (value, name) { if (!skip[name]) fields.push([name, value]); });
    try { localStorage.setItem(draftKey, JSON.stringify(fields)); } catch (e) { /* full: the form still works */ }
  }

  function restoreDraft() {
    var fields;
    try { fields = JSON.parse(localStorage.getItem(draftKey) || 'null'); } catch (e) { fields = null; }
    // a form sent back with errors holds what was typed already
    if (!fields || document.getElementById('error-summary')) return;
    fields.forEach(function (f) {
      form.querySelectorAll('[name="' + CSS.escape(f[0]) + '"]').forEach(function (el) {
        if (el.type === 'radio' || el.type === 'checkbox') el.checked = el.value === f[1];
        else if (el.type !== 'file') el.value = f[1];
      });
    });
    form.dispatchEvent(new Event('change'));
    show('draft', form.dataset.tDraft);
  }

  function send(body) {
    show('sending', form.dataset.tSending);
    return fetch(target.href, {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }
    }).then(function (res) {
      if (res.status >= 500) return wait(form.dataset.tServer);
      localStorage.removeItem(outboxKey);
      if (res.ok && res.redirected) {
        localStorage.removeItem(draftKey);
        show('sent', form.dataset.tSent);
        location.href = res.url;
        return;
      }
      // the server answered otherwise (a mistake to correct, a form expired): show its page as a browser would
      return res.text().then(function (html) {
        document.open();
        document.write(html);
        document.close();
      });
    }, function () {
      wait(form.dataset.tOffline);
    });

    function wait(text) {
      localStorage.setItem(outboxKey, body);
      show('waiting', text);
    }
  }

  function resend() {
    var body = localStorage.getItem(outboxKey);
    if (body) send(body);
  }

  form.addEventListener('input', saveDraft);
  form.addEventListener('change', saveDraft);
  form.addEventListener('submit', function (e) {
    var button = e.submitter;
    if (!button || button.value !== 'save') return;
    e.preventDefault();
    var data = new FormData(form);
    data.set('action', 'save');
    send(new URLSearchParams(data).toString());
  });
  window.addEventListener('online', resend);
  // the online event is not always told: try again every 10 s while something waits
  setInterval(function () { if (localStorage.getItem(outboxKey)) resend(); }, 10000);
  restoreDraft();
  if (localStorage.getItem(outboxKey)) {
    show('waiting', form.dataset.tEarlier);
    if (navigator.onLine) resend();
  }
})();
