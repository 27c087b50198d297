// Comfort only: the form works without it. Keeps the running count and the score total up to date.
(function () {
  var form = document.getElementById('meeting-form');
  if (!form) return;
  var tally = document.getElementById('tally');
  var total = document.getElementById('score-total');
  function update() {
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
        var s = sum >= 90 ? d.tRatingGood : sum >= 70 ? d.tRatingFair : sum >= 50 ? d.tRatingAverage : d.tRatingWeak;
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
