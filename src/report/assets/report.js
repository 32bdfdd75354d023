/* microconv report: draws each section from the rows in #report-data.
 * Every chart is drawn with ECharts' SVG renderer; every chart's numbers
 * are in a table under it (td data-col / data-value hold the raw values,
 * tr data-key the row's key). A section whose table was not published
 * says so (data-state="missing"); one with no rows says that
 * (data-state="empty"). */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var S = data.sections || {};
  var charts = [];
  var BLUE = '#2f6fde', RED = '#d64545', GREY = '#9aa5b1';

  // ---- helpers ------------------------------------------------------
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text != null) e.textContent = text;
    return e;
  }
  function unique(xs) {
    var seen = {}, out = [];
    xs.forEach(function (x) { if (!seen.hasOwnProperty(x)) { seen[x] = 1; out.push(x); } });
    return out;
  }
  function num(v) { return v == null ? null : Number(v); }
  function finite(v) { return v != null && isFinite(v); }
  function fmtInt(v) { return v == null ? '–' : Math.round(Number(v)).toLocaleString('en-US'); }
  function fmtNum(v, d) { return finite(v) ? Number(v).toFixed(d == null ? 2 : d) : '–'; }
  function fmtPct(v, d) { return finite(v) ? (100 * v).toFixed(d == null ? 1 : d) + '%' : '–'; }
  function fmtMoney(v) {
    return finite(v) ? Number(v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : '–';
  }
  function fmtP(v) { return finite(v) ? (v < 0.0001 ? '< 0.0001' : Number(v).toFixed(4)) : '–'; }
  function fmtSecs(v) {
    if (!finite(v)) return '–';
    if (v < 90) return Number(v).toFixed(v < 10 ? 2 : 0) + ' s';
    if (v < 5400) return (v / 60).toFixed(1) + ' min';
    if (v < 172800) return (v / 3600).toFixed(1) + ' h';
    return (v / 86400).toFixed(1) + ' d';
  }
  function fmtBool(v) { return v == null ? '–' : (v ? 'yes' : 'no'); }
  function fmtText(v) { return v == null ? '–' : String(v); }
  function fmtMb(v) { return finite(v) ? (v / 1e6).toFixed(0) + ' MB' : '–'; }

  function note(parent, text) { parent.appendChild(el('p', { 'class': 'note' }, text)); }
  function headline(parent, text) { parent.appendChild(el('p', { 'class': 'headline' }, text)); }

  function addChart(parent, option, size) {
    var div = el('div', { 'class': 'chart ' + (size || '') });
    parent.appendChild(div);
    var chart = echarts.init(div, null, { renderer: 'svg' });
    option.animation = false;
    chart.setOption(option);
    div.setAttribute('data-rendered', String(div.querySelectorAll('path, rect, circle, polyline, line').length));
    charts.push(chart);
    return div;
  }

  /* A table of the chart's numbers. columns: [key, label, format]; key(row)
   * gives the row's data-key. */
  function numbers(parent, id, title, columns, rows, key, open) {
    var details = el('details');
    if (open) details.open = true;
    details.appendChild(el('summary', {}, title));
    var scroll = el('div', { 'class': 'scroll' });
    var table = el('table', { 'class': 'numbers', 'data-numbers': id });
    var head = el('tr');
    columns.forEach(function (c) { head.appendChild(el('th', {}, c[1])); });
    table.appendChild(el('thead')).appendChild(head);
    var body = el('tbody');
    rows.forEach(function (r) {
      var tr = el('tr', { 'data-key': key(r) });
      if (r.__flag) tr.setAttribute('class', 'flag');
      columns.forEach(function (c) {
        var v = r[c[0]];
        var fmt = c[2] || fmtText;
        var td = el('td', { 'data-col': c[0], 'data-value': v == null ? '' : String(v) }, fmt(v));
        if (fmt === fmtText) td.setAttribute('class', 'text');
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    scroll.appendChild(table);
    details.appendChild(scroll);
    parent.appendChild(details);
  }

  /* Vertical error bars on a category x axis: data [index, low, high]. */
  function verticalErrorBars(yAxisIndex) {
    return {
      type: 'custom', name: 'interval', yAxisIndex: yAxisIndex || 0, encode: { x: 0, y: [1, 2] },
      renderItem: function (params, api) {
        var lo = api.coord([api.value(0), api.value(1)]);
        var hi = api.coord([api.value(0), api.value(2)]);
        var w = api.size([1, 0])[0] * 0.12;
        var style = { stroke: '#333', lineWidth: 1.5 };
        return {
          type: 'group', children: [
            { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style: style },
            { type: 'line', shape: { x1: lo[0] - w, y1: lo[1], x2: lo[0] + w, y2: lo[1] }, style: style },
            { type: 'line', shape: { x1: hi[0] - w, y1: hi[1], x2: hi[0] + w, y2: hi[1] }, style: style }
          ]
        };
      }
    };
  }

  /* Horizontal intervals on a category y axis: data [estimate, index, low, high]. */
  function horizontalErrorBars() {
    return {
      type: 'custom', name: 'interval', encode: { x: [0, 2, 3], y: 1 }, z: 1,
      renderItem: function (params, api) {
        var lo = api.coord([api.value(2), api.value(1)]);
        var hi = api.coord([api.value(3), api.value(1)]);
        var h = api.size([0, 1])[1] * 0.25;
        var style = { stroke: '#333', lineWidth: 1.5 };
        return {
          type: 'group', children: [
            { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style: style },
            { type: 'line', shape: { x1: lo[0], y1: lo[1] - h, x2: lo[0], y2: lo[1] + h }, style: style },
            { type: 'line', shape: { x1: hi[0], y1: hi[1] - h, x2: hi[0], y2: hi[1] + h }, style: style }
          ]
        };
      }
    };
  }

  function forest(parent, rows, label, axis) {
    var cats = rows.map(label);
    var option = {
      tooltip: { trigger: 'item', formatter: function (p) { return axis.tooltip(rows[p.dataIndex]); } },
      grid: { left: 10, right: 40, top: 30, bottom: 40, containLabel: true },
      xAxis: axis.x,
      yAxis: { type: 'category', data: cats, inverse: true },
      series: [
        horizontalErrorBars(),
        {
          type: 'scatter', symbolSize: 10, z: 2,
          data: rows.map(function (r, i) {
            return {
              value: [axis.estimate(r), i],
              itemStyle: { color: axis.filled(r) ? BLUE : '#fff', borderColor: axis.flagged && axis.flagged(r) ? RED : BLUE, borderWidth: 2 }
            };
          }),
          markLine: { silent: true, symbol: 'none', data: [{ xAxis: axis.reference }], lineStyle: { type: 'dashed', color: GREY } }
        }
      ]
    };
    option.series[0].data = rows.map(function (r, i) { return [axis.estimate(r), i, axis.low(r), axis.high(r)]; });
    var div = addChart(parent, option);
    div.style.height = Math.max(220, 70 + 30 * rows.length) + 'px';
    charts[charts.length - 1].resize();
    div.setAttribute('data-rendered', String(div.querySelectorAll('path, rect, circle, polyline, line').length));
  }

  function groupBy(rows, key) {
    var groups = {}, order = [];
    rows.forEach(function (r) {
      var k = key(r);
      if (!groups.hasOwnProperty(k)) { groups[k] = []; order.push(k); }
      groups[k].push(r);
    });
    return order.map(function (k) { return [k, groups[k]]; });
  }

  // ---- sections -------------------------------------------------------
  function kpis(sec) {
    var rows = S.kpis;
    var days = unique(rows.map(function (r) { return r.day; })).sort();
    var channels = unique(rows.filter(function (r) { return r.channel !== '(all)'; })
      .map(function (r) { return r.channel; })).sort();
    var by = {};
    rows.forEach(function (r) { by[r.day + '|' + r.channel] = r; });
    var all = days.map(function (d) { return by[d + '|(all)'] || { day: d }; });
    var total = { channel: '(all)', sessions: 0, converting_sessions: 0, macro_conversions: 0, micro_conversions: 0, revenue: 0 };
    var totals = {};
    rows.forEach(function (r) {
      var t = r.channel === '(all)' ? total : (totals[r.channel] = totals[r.channel] ||
        { channel: r.channel, sessions: 0, converting_sessions: 0, macro_conversions: 0, micro_conversions: 0, revenue: 0 });
      ['sessions', 'converting_sessions', 'macro_conversions', 'micro_conversions', 'revenue'].forEach(function (k) { t[k] += num(r[k]) || 0; });
    });
    var table = channels.map(function (c) { return totals[c]; }).concat([total]);
    table.forEach(function (t) { t.conversion_rate = t.sessions ? t.converting_sessions / t.sessions : null; });
    headline(sec, fmtInt(total.sessions) + ' sessions from ' + days[0] + ' to ' + days[days.length - 1] + ', ' +
      fmtPct(total.conversion_rate, 2) + ' with a macro conversion, revenue ' + fmtMoney(total.revenue) + '.');
    addChart(sec, {
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: 'category', data: days },
      yAxis: { type: 'value', name: 'sessions' },
      series: channels.map(function (c) {
        return { name: c, type: 'line', showSymbol: false, data: days.map(function (d) { return num((by[d + '|' + c] || {}).sessions) || 0; }) };
      })
    });
    addChart(sec, {
      tooltip: { trigger: 'axis', valueFormatter: function (v) { return fmtPct(v, 2); } },
      grid: { left: 70, right: 20, top: 30, bottom: 40 },
      xAxis: { type: 'category', data: days },
      yAxis: { type: 'value', name: 'conversion rate', axisLabel: { formatter: function (v) { return fmtPct(v, 1); } } },
      series: [{ name: 'conversion rate', type: 'line', showSymbol: false, data: all.map(function (r) { return num(r.conversion_rate); }) }]
    }, 'short');
    numbers(sec, 'kpis_channels', 'Totals by channel over the period', [
      ['channel', 'channel'], ['sessions', 'sessions', fmtInt], ['converting_sessions', 'converting sessions', fmtInt],
      ['conversion_rate', 'conversion rate', fmtPct], ['macro_conversions', 'macro conversions', fmtInt],
      ['micro_conversions', 'micro conversions', fmtInt], ['revenue', 'revenue', fmtMoney]
    ], table, function (r) { return r.channel; }, true);
    numbers(sec, 'kpis_days', 'Each day, all channels', [
      ['day', 'day'], ['users', 'users', fmtInt], ['sessions', 'sessions', fmtInt],
      ['converting_sessions', 'converting sessions', fmtInt], ['conversion_rate', 'conversion rate', fmtPct],
      ['revenue', 'revenue', fmtMoney]
    ], all, function (r) { return r.day; });
  }

  function funnels(sec) {
    var friction = S.friction_points || [];
    groupBy(S.funnel_steps, function (r) { return r.funnel; }).forEach(function (g) {
      var name = g[0], rows = g[1];
      sec.appendChild(el('h3', {}, 'Funnel: ' + name));
      var worst = friction.filter(function (f) { return f.funnel === name && f.breakdown === '(all)'; })[0];
      var last = rows[rows.length - 1];
      var text = fmtInt(rows[0].users) + ' entered, ' + fmtInt(last.users) + ' completed (' +
        fmtPct(last.conversion_from_first) + ' of those who entered).';
      if (worst) {
        text += ' Friction point: step ' + worst.step + ' (' + worst.from_conversion + ' → ' + worst.to_conversion +
          '), only ' + fmtPct(worst.conversion_rate) + ' continue (95% CI ' + fmtPct(worst.conversion_rate_low) +
          '–' + fmtPct(worst.conversion_rate_high) + ').';
      }
      headline(sec, text);
      rows.forEach(function (r) { r.__flag = worst && r.step === worst.step; });
      addChart(sec, {
        tooltip: { trigger: 'axis' },
        legend: { top: 0, data: ['users', 'from previous step'] },
        grid: { left: 70, right: 70, top: 40, bottom: 50 },
        xAxis: { type: 'category', data: rows.map(function (r) { return r.step + '. ' + r.conversion; }) },
        yAxis: [
          { type: 'value', name: 'users' },
          { type: 'value', name: 'from previous', min: 0, max: 1, axisLabel: { formatter: function (v) { return fmtPct(v, 0); } } }
        ],
        series: [
          {
            name: 'users', type: 'bar', barWidth: '50%',
            data: rows.map(function (r) { return { value: num(r.users), itemStyle: { color: r.__flag ? RED : BLUE } }; }),
            label: { show: true, position: 'top', formatter: function (p) { return fmtInt(p.value); } }
          },
          {
            name: 'from previous step', type: 'line', yAxisIndex: 1,
            data: rows.map(function (r) { return num(r.conversion_from_previous); }),
            label: { show: true, position: 'right', formatter: function (p) { return fmtPct(p.value, 1); } }
          },
          (function () {
            var s = verticalErrorBars(1);
            s.data = rows.filter(function (r) { return finite(r.conversion_from_previous_low); })
              .map(function (r) { return [rows.indexOf(r), r.conversion_from_previous_low, r.conversion_from_previous_high]; });
            return s;
          })()
        ]
      });
      numbers(sec, 'funnel_steps', 'Steps of ' + name, [
        ['step', 'step'], ['conversion', 'conversion'], ['users', 'users', fmtInt], ['dropped', 'dropped', fmtInt],
        ['pending', 'pending', fmtInt], ['conversion_from_previous', 'from previous', fmtPct],
        ['conversion_from_previous_low', '95% low', fmtPct], ['conversion_from_previous_high', '95% high', fmtPct],
        ['drop_off_rate', 'drop-off', fmtPct], ['conversion_from_first', 'from first', fmtPct],
        ['median_seconds_from_previous', 'median time', fmtSecs], ['p90_seconds_from_previous', 'p90 time', fmtSecs]
      ], rows, function (r) { return r.funnel + '|' + r.step; }, true);
    });
    var worse = friction.filter(function (f) { return f.breakdown !== '(all)'; });
    if (worse.length) {
      sec.appendChild(el('h3', {}, 'Segments significantly worse than the rest at their worst step'));
      numbers(sec, 'friction_segments', worse.length + ' segment(s)', [
        ['funnel', 'funnel'], ['breakdown', 'breakdown'], ['breakdown_value', 'value'], ['step', 'step'],
        ['to_conversion', 'step conversion'], ['conversion_rate', 'rate', fmtPct], ['rest_conversion_rate', 'rest', fmtPct],
        ['p_adjusted', 'p (Holm)', fmtP]
      ], worse, function (r) { return [r.funnel, r.breakdown, r.breakdown_value].join('|'); }, true);
    }
  }

  function lift(sec) {
    groupBy(S.lift, function (r) { return r.macro_conversion; }).forEach(function (g) {
      var macro = g[0], rows = g[1];
      sec.appendChild(el('h3', {}, 'Macro conversion: ' + macro));
      var top = rows.filter(function (r) { return r.priority === 1; })[0] ||
        rows.filter(function (r) { return r.significant; })[0];
      if (top) {
        headline(sec, 'Top priority: people who did ' + top.micro_conversion + ' are ' + fmtNum(top.risk_ratio, 1) +
          '× as likely to do ' + macro + ' (' + fmtNum(top.risk_ratio_lower, 1) + '–' + fmtNum(top.risk_ratio_upper, 1) +
          '×); ' + fmtPct(top.prevalence, 1) + ' of users did it.');
      } else {
        headline(sec, 'No micro conversion is significantly associated with ' + macro + '.');
      }
      var plotted = rows.filter(function (r) {
        return finite(r.risk_ratio) && r.risk_ratio > 0 && finite(r.risk_ratio_lower) && r.risk_ratio_lower > 0 && finite(r.risk_ratio_upper);
      });
      if (plotted.length) {
        forest(sec, plotted, function (r) {
          return (r.priority != null ? '#' + r.priority + ' ' : '') + r.micro_conversion + ' (' + fmtPct(r.prevalence, 0) + ')';
        }, {
          x: { type: 'log', name: 'risk ratio', nameLocation: 'middle', nameGap: 25 },
          reference: 1,
          estimate: function (r) { return r.risk_ratio; },
          low: function (r) { return r.risk_ratio_lower; },
          high: function (r) { return r.risk_ratio_upper; },
          filled: function (r) { return r.significant; },
          flagged: function (r) { return r.too_good_to_be_true || r.low_sample; },
          tooltip: function (r) {
            return r.micro_conversion + ': ' + fmtNum(r.risk_ratio, 2) + '× (' + fmtNum(r.risk_ratio_lower, 2) + '–' +
              fmtNum(r.risk_ratio_upper, 2) + ')<br>' + fmtPct(r.p1) + ' of ' + fmtInt(r.exposed_users) + ' who did it vs ' +
              fmtPct(r.p0) + ' of ' + fmtInt(r.unexposed_users) + ' who did not<br>q = ' + fmtP(r.q_value);
          }
        });
      } else {
        note(sec, 'No row has a finite risk ratio to plot.');
      }
      numbers(sec, 'lift', 'Lift of every micro conversion on ' + macro, [
        ['priority', 'priority'], ['micro_conversion', 'micro conversion'], ['micro_stage', 'stage'],
        ['prevalence', 'did it', fmtPct], ['p1', 'rate if did', fmtPct], ['p0', 'rate if not', fmtPct],
        ['risk_ratio', 'risk ratio', fmtNum], ['risk_ratio_lower', 'low', fmtNum], ['risk_ratio_upper', 'high', fmtNum],
        ['q_value', 'q (BH)', fmtP], ['significant', 'significant', fmtBool], ['low_sample', 'low sample', fmtBool],
        ['too_good_to_be_true', 'too good to be true', fmtBool]
      ], rows, function (r) { return r.micro_conversion + '|' + r.macro_conversion; }, true);
    });
  }

  function paths(sec) {
    var edges = S.path_edges;
    var TO = '\u200b'; // the right-hand copy of a node: same label, another node
    var names = unique(edges.map(function (e) { return e.from_node; }))
      .concat(unique(edges.map(function (e) { return e.to_node + TO; })));
    addChart(sec, {
      tooltip: { trigger: 'item', formatter: function (p) {
        return p.dataType === 'edge'
          ? p.data.source + ' → ' + p.data.target.replace(TO, '') + ': ' + fmtInt(p.data.value) + ' transitions'
          : p.name.replace(TO, '');
      } },
      series: [{
        type: 'sankey', left: 10, right: 120, top: 10, bottom: 10, nodeAlign: 'justify',
        emphasis: { focus: 'adjacency' }, lineStyle: { color: 'gradient', curveness: 0.5, opacity: 0.35 },
        label: { formatter: function (p) { return p.name.replace(TO, ''); } },
        data: names.map(function (n) { return { name: n }; }),
        links: edges.map(function (e) { return { source: e.from_node, target: e.to_node + TO, value: num(e.transitions) }; })
      }]
    }, 'tall');
    numbers(sec, 'path_edges', 'The ' + edges.length + ' busiest transitions', [
      ['from_node', 'from'], ['to_node', 'to'], ['transitions', 'transitions', fmtInt], ['sessions', 'sessions', fmtInt],
      ['share', 'share of from', fmtPct], ['avg_seconds', 'mean time', fmtSecs]
    ], edges, function (r) { return r.from_node + '|' + r.to_node; });
    var jp = S.journey_paths;
    if (jp && jp.length) {
      sec.appendChild(el('h3', {}, 'Most common channel paths'));
      addChart(sec, {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        grid: { left: 10, right: 30, top: 20, bottom: 40, containLabel: true },
        xAxis: { type: 'value', nameLocation: 'middle', nameGap: 25, name: 'users' },
        yAxis: { type: 'category', inverse: true, data: jp.map(function (r) { return r.path; }) },
        series: [{ name: 'users', type: 'bar', data: jp.map(function (r) { return num(r.users); }), itemStyle: { color: BLUE } }]
      });
      numbers(sec, 'journey_paths', 'Top ' + jp.length + ' paths', [
        ['path_rank', 'rank'], ['path', 'path'], ['users', 'users', fmtInt], ['share_of_users', 'share', fmtPct],
        ['converters', 'converters', fmtInt], ['conversion_rate', 'conversion rate', fmtPct], ['revenue', 'revenue', fmtMoney]
      ], jp, function (r) { return r.path; });
    }
  }

  var MODELS = ['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay', 'markov'];
  function attribution(sec) {
    var rows = S.channel_attribution;
    var models = MODELS.filter(function (m) { return rows.some(function (r) { return r.model === m; }); });
    var credit = {};
    rows.forEach(function (r) { credit[r.channel] = (credit[r.channel] || 0) + (num(r.credited_conversions) || 0); });
    var channels = Object.keys(credit).sort(function (a, b) { return credit[b] - credit[a] || (a < b ? -1 : 1); });
    var at = {};
    rows.forEach(function (r) { at[r.model + '|' + r.channel] = r; });
    addChart(sec, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return fmtNum(v, 1); } },
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: 'category', data: channels },
      yAxis: { type: 'value', name: 'credited conversions' },
      series: models.map(function (m) {
        return { name: m, type: 'bar', data: channels.map(function (c) { return num((at[m + '|' + c] || {}).credited_conversions); }) };
      })
    });
    var costed = rows.filter(function (r) { return r.cost != null; });
    if (costed.length) {
      sec.appendChild(el('h3', {}, 'Return on ad spend'));
      addChart(sec, {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return fmtNum(v, 2); } },
        legend: { top: 0 },
        grid: { left: 60, right: 20, top: 40, bottom: 40 },
        xAxis: { type: 'category', data: unique(costed.map(function (r) { return r.channel; })) },
        yAxis: { type: 'value', name: 'ROAS' },
        series: models.map(function (m) {
          return { name: m, type: 'bar', data: unique(costed.map(function (r) { return r.channel; })).map(function (c) { return num((at[m + '|' + c] || {}).roas); }) };
        })
      }, 'short');
    } else {
      note(sec, 'No cost data was given, so there is no ROAS.');
    }
    numbers(sec, 'channel_attribution', 'Credit by model and channel', [
      ['model', 'model'], ['channel', 'channel'], ['credited_conversions', 'conversions', function (v) { return fmtNum(v, 2); }],
      ['credited_revenue', 'revenue', fmtMoney], ['cost', 'cost', fmtMoney], ['roas', 'ROAS', fmtNum],
      ['cost_per_conversion', 'cost per conversion', fmtMoney]
    ], rows, function (r) { return r.model + '|' + r.channel; });
    var mk = S.markov_attribution;
    if (mk && mk.length) {
      sec.appendChild(el('h3', {}, 'Markov removal effects'));
      addChart(sec, {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return fmtPct(v, 1); } },
        grid: { left: 10, right: 30, top: 20, bottom: 40, containLabel: true },
        xAxis: { type: 'value', nameLocation: 'middle', nameGap: 25, name: 'removal effect', axisLabel: { formatter: function (v) { return fmtPct(v, 0); } } },
        yAxis: { type: 'category', inverse: true, data: mk.map(function (r) { return r.channel; }) },
        series: [{ name: 'removal effect', type: 'bar', data: mk.map(function (r) { return num(r.removal_effect); }), itemStyle: { color: BLUE } }]
      }, 'short');
      numbers(sec, 'markov_attribution', 'Removal effects', [
        ['channel', 'channel'], ['removal_effect', 'removal effect', fmtPct], ['removal_share', 'share', fmtPct],
        ['credited_conversions', 'conversions', fmtNum], ['credited_revenue', 'revenue', fmtMoney]
      ], mk, function (r) { return r.channel; });
    }
  }

  function clv(sec) {
    var seg = S.rfm_segments;
    sec.appendChild(el('h3', {}, 'RFM segments'));
    addChart(sec, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 10, right: 30, top: 20, bottom: 40, containLabel: true },
      xAxis: { type: 'value', nameLocation: 'middle', nameGap: 25, name: 'customers' },
      yAxis: { type: 'category', inverse: true, data: seg.map(function (r) { return r.segment; }) },
      series: [{ name: 'customers', type: 'bar', data: seg.map(function (r) { return num(r.customers); }), itemStyle: { color: BLUE } }]
    });
    numbers(sec, 'rfm_segments', 'Customers per segment', [
      ['segment', 'segment'], ['customers', 'customers', fmtInt], ['revenue', 'revenue', fmtMoney],
      ['revenue_per_customer', 'revenue per customer', fmtMoney]
    ], seg, function (r) { return r.segment; });
    var tiers = S.clv_tiers;
    if (tiers && tiers.length) {
      sec.appendChild(el('h3', {}, 'Predicted value tiers'));
      addChart(sec, {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        legend: { top: 0 },
        grid: { left: 80, right: 80, top: 40, bottom: 30 },
        xAxis: { type: 'category', data: tiers.map(function (r) { return r.value_tier; }) },
        yAxis: [{ type: 'value', name: 'predicted value' }, { type: 'value', name: 'customers' }],
        series: [
          { name: 'predicted value', type: 'bar', data: tiers.map(function (r) { return num(r.predicted_clv); }) },
          { name: 'customers', type: 'line', yAxisIndex: 1, data: tiers.map(function (r) { return num(r.customers); }) }
        ]
      }, 'short');
      numbers(sec, 'clv_tiers', 'Customers and predicted value per tier', [
        ['value_tier', 'tier'], ['customers', 'customers', fmtInt], ['predicted_clv', 'predicted value', fmtMoney],
        ['predicted_clv_per_customer', 'per customer', fmtMoney], ['mean_p_alive', 'mean P(alive)', fmtPct]
      ], tiers, function (r) { return r.value_tier; });
    }
    var val = S.clv_validation;
    if (val && val.length) {
      sec.appendChild(el('h3', {}, 'Calibration vs holdout (' + val[0].source + ', ' + val[0].calibration_end + ' to ' + val[0].holdout_end + ')'));
      var buckets = val.filter(function (r) { return r.frequency_bucket !== '(all)'; });
      addChart(sec, {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return fmtNum(v, 1); } },
        legend: { top: 0 },
        grid: { left: 60, right: 20, top: 40, bottom: 40 },
        xAxis: { type: 'category', name: 'repeat purchases in calibration', nameLocation: 'middle', nameGap: 25, data: buckets.map(function (r) { return r.frequency_bucket; }) },
        yAxis: { type: 'value', name: 'purchases in holdout' },
        series: [
          { name: 'actual', type: 'bar', data: buckets.map(function (r) { return num(r.actual_purchases); }) },
          { name: 'predicted', type: 'bar', data: buckets.map(function (r) { return num(r.predicted_purchases); }) }
        ]
      }, 'short');
      numbers(sec, 'clv_validation', 'Per frequency bucket', [
        ['frequency_bucket', 'bucket'], ['customers', 'customers', fmtInt], ['actual_purchases', 'actual', fmtInt],
        ['predicted_purchases', 'predicted', function (v) { return fmtNum(v, 1); }], ['relative_error', 'relative error', fmtPct]
      ], val, function (r) { return r.frequency_bucket; });
    } else {
      note(sec, 'No holdout in this run ([clv] holdout, or events after the as-of day), so no calibration check.');
    }
  }

  function cohorts(sec) {
    var rows = S.cohort_retention;
    var cohortNames = unique(rows.map(function (r) { return r.cohort; })).sort();
    var months = 0;
    rows.forEach(function (r) { months = Math.max(months, r.months_since); });
    var monthLabels = [];
    for (var m = 0; m <= months; m++) monthLabels.push(String(m));
    var later = rows.filter(function (r) { return r.months_since > 0; }).map(function (r) { return num(r.retention_rate) || 0; });
    var top = later.length ? Math.max.apply(null, later) : 1;
    addChart(sec, {
      tooltip: { formatter: function (p) {
        var r = rows[p.dataIndex];
        return r.cohort + ', month ' + r.months_since + ': ' + fmtPct(r.retention_rate) + ' (' + fmtInt(r.active_customers) + ' of ' + fmtInt(r.cohort_customers) + ')';
      } },
      grid: { left: 100, right: 30, top: 20, bottom: 80 },
      xAxis: { type: 'category', name: 'months since first purchase', nameLocation: 'middle', nameGap: 25, data: monthLabels },
      yAxis: { type: 'category', inverse: true, data: cohortNames },
      visualMap: { min: 0, max: top || 1, calculable: false, orient: 'horizontal', left: 'center', bottom: 0,
        formatter: function (v) { return fmtPct(v, 0); }, inRange: { color: ['#f0f4f8', '#2f6fde'] } },
      series: [{
        type: 'heatmap',
        data: rows.map(function (r) { return [r.months_since, cohortNames.indexOf(r.cohort), num(r.retention_rate)]; }),
        label: { show: rows.length <= 200, formatter: function (p) { return fmtPct(p.value[2], 0); }, fontSize: 10 }
      }]
    }, rows.length > 100 ? 'tall' : '');
    numbers(sec, 'cohort_retention', 'Retention per cohort and month', [
      ['cohort', 'cohort'], ['months_since', 'months since'], ['cohort_customers', 'customers', fmtInt],
      ['active_customers', 'active', fmtInt], ['retention_rate', 'retention', fmtPct]
    ], rows, function (r) { return r.cohort + '|' + r.months_since; });
  }

  function experiments(sec) {
    var rows = S.experiments;
    groupBy(rows, function (r) { return r.experiment; }).forEach(function (g) {
      var name = g[0], xs = g[1];
      sec.appendChild(el('h3', {}, 'Experiment: ' + name));
      var srm = xs.some(function (r) { return r.sample_ratio_mismatch; });
      var users = {};
      xs.forEach(function (r) { users[r.variant] = r.users; });
      headline(sec, Object.keys(users).map(function (v) { return v + ': ' + fmtInt(users[v]) + ' users'; }).join(', ') +
        (srm ? '. Sample ratio mismatch (p = ' + fmtP(xs[0].srm_p_value) + '): the split is not the planned one; do not trust the lifts.' : '.'));
      var plotted = xs.filter(function (r) { return !r.is_control && finite(r.relative_lift) && finite(r.lift_lower) && finite(r.lift_upper); });
      if (plotted.length) {
        forest(sec, plotted, function (r) { return r.variant + ' vs ' + r.control_variant + ': ' + r.conversion; }, {
          x: { type: 'value', name: 'relative lift', nameLocation: 'middle', nameGap: 25, axisLabel: { formatter: function (v) { return fmtPct(v, 0); } } },
          reference: 0,
          estimate: function (r) { return r.relative_lift; },
          low: function (r) { return r.lift_lower; },
          high: function (r) { return r.lift_upper; },
          filled: function (r) { return r.q_value != null && r.q_value < 0.05; },
          flagged: function (r) { return r.sample_ratio_mismatch; },
          tooltip: function (r) {
            return r.variant + ' vs ' + r.control_variant + ', ' + r.conversion + ': ' + fmtPct(r.relative_lift) + ' (' +
              fmtPct(r.lift_lower) + ' to ' + fmtPct(r.lift_upper) + ')<br>' + fmtPct(r.rate, 2) + ' vs ' + fmtPct(r.control_rate, 2) +
              '<br>q = ' + fmtP(r.q_value);
          }
        });
      } else {
        note(sec, 'No variant has a lift with an interval to plot.');
      }
      xs.forEach(function (r) { r.__flag = r.sample_ratio_mismatch; });
      numbers(sec, 'experiments', 'Every variant and conversion of ' + name, [
        ['variant', 'variant'], ['conversion', 'conversion'], ['kind', 'kind'], ['users', 'users', fmtInt],
        ['converters', 'converters', fmtInt], ['rate', 'rate', function (v) { return fmtPct(v, 2); }],
        ['relative_lift', 'lift', fmtPct], ['lift_lower', 'low', fmtPct], ['lift_upper', 'high', fmtPct],
        ['q_value', 'q (BH)', fmtP], ['sample_ratio_mismatch', 'SRM', fmtBool]
      ], xs, function (r) { return [r.experiment, r.variant, r.conversion].join('|'); }, true);
    });
  }

  function run(sec) {
    var r = data.run;
    if (!r) {
      sec.setAttribute('data-state', 'missing');
      note(sec, 'No run manifest for this date under _manifests.');
      return;
    }
    var input = r.input_rows || {};
    var cards = el('div', { 'class': 'cards' });
    [['input rows', fmtInt(input.rows)], ['rejected', fmtInt(Object.keys(input.rejected || {}).reduce(function (s, k) { return s + input.rejected[k]; }, 0))],
     ['after the as-of day', fmtInt(input.after_as_of)], ['input files', fmtInt(r.input_files)],
     ['run time', fmtSecs(r.seconds)], ['peak memory', fmtMb(r.peak_rss_bytes)]].forEach(function (c) {
      var card = el('div', { 'class': 'card' });
      card.appendChild(el('b', {}, c[1]));
      card.appendChild(document.createTextNode(c[0]));
      cards.appendChild(card);
    });
    sec.appendChild(cards);
    var reasons = Object.keys(input.rejected || {}).map(function (k) { return { reason: k, rows: input.rejected[k] }; });
    if (reasons.length) {
      numbers(sec, 'rejects', 'Rejected rows by reason', [['reason', 'reason'], ['rows', 'rows', fmtInt]],
        reasons, function (x) { return x.reason; }, true);
    } else {
      note(sec, 'No input row was rejected.');
    }
    // slowest first: where the run's time went
    var stages = [{ name: 'input', rows: input.rows, seconds: r.input_seconds }].concat(r.tables || []).concat(
      (r.internal_tables || []).map(function (t) { return { name: t.name + ' (internal)', rows: t.rows, seconds: t.seconds, peak_rss_bytes: t.peak_rss_bytes }; }))
      .sort(function (a, b) { return (num(b.seconds) || 0) - (num(a.seconds) || 0); });
    addChart(sec, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return fmtSecs(v); } },
      grid: { left: 10, right: 30, top: 20, bottom: 40, containLabel: true },
      xAxis: { type: 'value', nameLocation: 'middle', nameGap: 25, name: 'seconds' },
      yAxis: { type: 'category', inverse: true, data: stages.map(function (t) { return t.name; }) },
      series: [{ name: 'seconds', type: 'bar', data: stages.map(function (t) { return num(t.seconds); }), itemStyle: { color: BLUE } }]
    });
    charts[charts.length - 1].getDom().style.height = Math.max(260, 40 + 18 * stages.length) + 'px';
    charts[charts.length - 1].resize();
    numbers(sec, 'run_tables', 'Tables: rows, seconds, peak memory', [
      ['name', 'table'], ['rows', 'rows', fmtInt], ['seconds', 'seconds', fmtSecs], ['peak_rss_bytes', 'peak memory', fmtMb]
    ], stages, function (t) { return t.name; });
    sec.setAttribute('data-state', 'ok');
  }

  // ---- drive ------------------------------------------------------------
  var SECTIONS = [
    ['kpis', 'kpis', kpis], ['funnels', 'funnel_steps', funnels], ['lift', 'lift', lift],
    ['paths', 'path_edges', paths], ['attribution', 'channel_attribution', attribution],
    ['clv', 'rfm_segments', clv], ['cohorts', 'cohort_retention', cohorts],
    ['experiments', 'experiments', experiments]
  ];
  SECTIONS.forEach(function (s) {
    var sec = document.getElementById(s[0]);
    var rows = S[s[1]];
    try {
      if (rows == null) {
        sec.setAttribute('data-state', 'missing');
        note(sec, 'The table ' + sec.getAttribute('data-table') + ' was not published for this date.');
      } else if (!rows.length) {
        sec.setAttribute('data-state', 'empty');
        note(sec, 'The table ' + sec.getAttribute('data-table') + ' has no rows for this date.');
      } else {
        s[2](sec);
        sec.setAttribute('data-state', 'ok');
      }
    } catch (e) {
      console.error('section ' + s[0] + ': ' + e);
    }
  });
  try { run(document.getElementById('run')); } catch (e) { console.error('section run: ' + e); }
  // the charts' final sizes, then what each drew
  charts.forEach(function (c) {
    var div = c.getDom();
    div.setAttribute('data-rendered', String(div.querySelectorAll('path, rect, circle, polyline, line').length));
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  document.body.setAttribute('data-charts', String(charts.length));
})();
