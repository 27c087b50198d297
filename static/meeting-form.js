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
    if (tally) tally.textContent = present + '/' + expected + ' có mặt';
    var inputs = form.querySelectorAll('input[name^="score."]');
    var sum = 0, filled = 0;
    inputs.forEach(function (i) { if (i.value !== '') { filled++; sum += Number(i.value) || 0; } });
    if (total) {
      if (filled === inputs.length && inputs.length > 0) {
        var s = sum >= 90 ? 'Tốt' : sum >= 70 ? 'Khá' : sum >= 50 ? 'Trung bình' : 'Kém';
        total.textContent = 'Tổng ' + sum + '/100 điểm — gợi ý: ' + s;
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
